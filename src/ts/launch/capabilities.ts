import {readFileSync} from 'node:fs';
import {nativeBinding} from '../native/binding.js';

/** Linux's capability names by bit (linux/capability.h). */
const capabilityNames = [
	'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
	'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot',
	'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease',
	'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read',
	'perfmon', 'bpf', 'checkpoint_restore',
];

/** A capability set of this process from /proc/self/status (`CapInh`, `CapBnd`), or undefined. */
function ownSet(status: string, name: string): bigint | undefined {
	const hex = new RegExp(`^${name}:\\s*([\\da-f]+)$`, 'm').exec(status)?.[1];
	return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

/** The file capabilities of `program` (permitted, inheritable), or undefined when it has none or they cannot be read. */
function fileCapabilities(program: string): {permitted: bigint; inheritable: bigint; effective: boolean} | undefined {
	let data: Buffer | null;
	try {
		data = nativeBinding().fileCapabilities(program);
	} catch {
		return undefined;
	}

	// struct vfs_cap_data: magic_etc, then per 32 capabilities a permitted and an inheritable word (one pair in revision 1, two after).
	const words = data !== null && data.length >= 4 && (data.readUInt32LE(0) & 0xFF_00_00_00) === 0x01_00_00_00 ? 1 : 2;
	if (data === null || data.length < 4 + (8 * words)) {
		return undefined;
	}

	let permitted = 0n;
	let inheritable = 0n;
	for (let word = 0; word < words; word++) {
		permitted |= BigInt(data.readUInt32LE(4 + (8 * word))) << BigInt(32 * word);
		inheritable |= BigInt(data.readUInt32LE(8 + (8 * word))) << BigInt(32 * word);
	}

	// VFS_CAP_FLAGS_EFFECTIVE.
	return {permitted, inheritable, effective: (data.readUInt32LE(0) & 1) !== 0};
}

/**
 * Why the kernel runs `program` in secure mode for its file capabilities, which makes the loader ignore LD_PRELOAD, or
 * undefined: when a process whose real user is not root gains capabilities by the exec (those of the file's permitted
 * set that the bounding set keeps, and of its inheritable set that this process's has), as ping does for raw sockets,
 * or the file's effective bit is set.
 */
export function capabilitiesReason(program: string): string | undefined {
	const file = process.getuid?.() === 0 ? undefined : fileCapabilities(program);
	if (file === undefined) {
		return undefined;
	}

	let status: string;
	try {
		status = readFileSync('/proc/self/status', 'utf8');
	} catch {
		return undefined;
	}

	// The kernel also runs it in secure mode when the file's effective bit is set, whatever is gained (cap_bprm_creds_from_file).
	const gained = (file.permitted & (ownSet(status, 'CapBnd') ?? 0n)) | (file.inheritable & (ownSet(status, 'CapInh') ?? 0n));
	if (gained === 0n && !file.effective) {
		return undefined;
	}

	const shown = gained === 0n ? file.permitted | file.inheritable : gained;
	const names = capabilityNames.filter((_, bit) => (shown & (1n << BigInt(bit))) !== 0n).map(name => `cap_${name}`);
	return `a program with file capabilities (${names.length > 0 ? names.join(', ') : `0x${shown.toString(16)}`})`;
}
