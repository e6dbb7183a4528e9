import {nearName} from '../near-name.js';

/** The kinds of rule, in the order the schema's union lists them. */
export const ruleKinds = ['relink', 'redefine', 'callback', 'act'] as const;

/** The kind of a rule. */
export type RuleKind = typeof ruleKinds[number];

/**
 * The rule kind an unknown key most likely meant, by the text dialect's rule for its commands (`unknown_command`
 * of src/native/config/sections.c), so that one word gets one suggestion in every dialect: a kind the word spells on
 * from all but the kind's last letter, six letters or more in common (`redefinition`, pDI-Tools' word, is
 * `redefine`; `relinking`), else the near name. An edit distance alone misses pDI-Tools' longer words.
 */
export function nearRuleKind(word: string): RuleKind | undefined {
	const extended = ruleKinds.find(kind => {
		let common = 0;
		while (common < word.length && word[common] === kind[common]) {
			common++;
		}

		return common >= 6 && common + 1 >= kind.length;
	});
	return extended ?? nearName(word, ruleKinds) as RuleKind | undefined;
}
