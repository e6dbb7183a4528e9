// ESLint for every TypeScript and JavaScript file: typescript-eslint's type-aware
// rules, the house style (tabs, single quotes, no spaces inside braces) through
// @stylistic, and the size limits of the structure rules (docs/development.md,
// "Lint and format"). `npm run lint` runs it; `npx eslint --fix FILE` formats.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';
import {defineConfig} from 'eslint/config';
import tseslint from 'typescript-eslint';
import {pending} from './scripts/lint-pending.mjs';

const style = {
	'@stylistic/indent': ['error', 'tab', {SwitchCase: 1}],
	'@stylistic/quotes': ['error', 'single', {avoidEscape: true, allowTemplateLiterals: 'avoidEscape'}],
	'@stylistic/semi': ['error', 'always'],
	// ESLint's own (frozen) rules: @stylistic replaced its copies with list-style, which
	// would also force one item per line in every wrapped list the code base packs.
	'object-curly-spacing': ['error', 'never'],
	'array-bracket-spacing': ['error', 'never'],
	'@stylistic/comma-dangle': ['error', 'always-multiline'],
	'@stylistic/comma-spacing': 'error',
	'@stylistic/arrow-parens': ['error', 'as-needed'],
	'@stylistic/arrow-spacing': 'error',
	'@stylistic/brace-style': ['error', '1tbs', {allowSingleLine: true}],
	'@stylistic/keyword-spacing': 'error',
	'@stylistic/space-before-blocks': 'error',
	'@stylistic/space-before-function-paren': ['error', {anonymous: 'always', named: 'never', asyncArrow: 'always'}],
	'@stylistic/space-infix-ops': 'error',
	'@stylistic/key-spacing': 'error',
	'@stylistic/type-annotation-spacing': 'error',
	'@stylistic/member-delimiter-style': 'error',
	'@stylistic/eol-last': 'error',
	'@stylistic/no-trailing-spaces': 'error',
	'@stylistic/no-multiple-empty-lines': ['error', {max: 1, maxBOF: 0, maxEOF: 0}],
	'@stylistic/no-mixed-spaces-and-tabs': 'error',
	'@stylistic/operator-linebreak': ['error', 'before'],
	'@stylistic/quote-props': ['error', 'as-needed'],
	'@stylistic/block-spacing': ['error', 'never'],
	'@stylistic/comma-style': 'error',
	'@stylistic/computed-property-spacing': 'error',
	'@stylistic/dot-location': ['error', 'property'],
	'@stylistic/function-call-spacing': 'error',
	'@stylistic/new-parens': 'error',
	'@stylistic/no-extra-semi': 'error',
	'@stylistic/no-floating-decimal': 'error',
	'@stylistic/no-multi-spaces': 'error',
	'@stylistic/no-whitespace-before-property': 'error',
	'@stylistic/padded-blocks': ['error', 'never'],
	'@stylistic/rest-spread-spacing': 'error',
	'@stylistic/semi-spacing': 'error',
	'@stylistic/space-in-parens': 'error',
	'@stylistic/space-unary-ops': 'error',
	'@stylistic/spaced-comment': ['error', 'always', {markers: ['/']}],
	'@stylistic/switch-colon-spacing': 'error',
	'@stylistic/template-curly-spacing': 'error',
	'@stylistic/type-generic-spacing': 'error',
	'@stylistic/lines-between-class-members': ['error', 'always', {exceptAfterSingleLine: true}],
};

// The acceptance's size limits: no file over 600 lines, no function over 80.
const size = {
	'max-lines': ['error', {max: 600, skipBlankLines: false, skipComments: false}],
	'max-lines-per-function': ['error', {max: 80, skipBlankLines: false, skipComments: false, IIFEs: true}],
};

const config = defineConfig(
	{ignores: ['dist/', 'build/', 'prebuilds/', 'node_modules/', 'test/fixtures/out/', 'test/fixtures/out-*/']},
	js.configs.recommended,
	...tseslint.configs.recommendedTypeChecked,
	{
		languageOptions: {
			globals: globals.node,
			parserOptions: {project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname},
		},
		plugins: {'@stylistic': stylistic},
		rules: {
			...style,
			...size,
			'@typescript-eslint/consistent-type-imports': ['error', {fixStyle: 'inline-type-imports'}],
			'@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', caughtErrors: 'none'}],
			// `catch {}` is how the code says "absent is fine" (an optional file, a dead pid).
			'no-empty': ['error', {allowEmptyCatch: true}],
			// Template literals take numbers (line numbers, pids, sizes) throughout.
			'@typescript-eslint/restrict-template-expressions': ['error', {allowNumber: true, allowBoolean: true}],
			eqeqeq: ['error', 'always', {null: 'ignore'}],
			'prefer-const': 'error',
			'no-var': 'error',
		},
	},
	{
		// Test bodies are ava callbacks: one scenario each, read top to bottom, so the
		// function limit is not applied to them; the file limit is.
		files: ['test/**/*.ts'],
		rules: {'max-lines-per-function': 'off'},
	},
	{
		files: ['**/*.js', '**/*.mjs'],
		...tseslint.configs.disableTypeChecked,
	},
);

// Files still waiting for the issue 11 moves (scripts/lint-pending.mjs): every
// rule that is on for TypeScript reports as a warning there, so `npm run lint`
// shows the findings and passes.
const isOff = setting => [0, 'off'].includes(Array.isArray(setting) ? setting[0] : setting);
const offForTypescript = new Set(tseslint.configs.recommendedTypeChecked.flatMap(entry => Object.entries(entry.rules ?? {}))
	.filter(([, setting]) => isOff(setting)).map(([rule]) => rule));
const onForTypescript = new Set(config.flatMap(entry => Object.entries(entry.rules ?? {}))
	.filter(([rule, setting]) => !isOff(setting) && !offForTypescript.has(rule)).map(([rule]) => rule));
const pendingScripts = pending.filter(entry => entry.endsWith('/') || /\.m?[jt]s$/.test(entry));
export default pendingScripts.length === 0 ? config : [...config, {
	files: pendingScripts.map(entry => (entry.endsWith('/') ? `${entry}**` : entry)),
	rules: Object.fromEntries([...onForTypescript].map(rule => [rule, 'warn'])),
}];
