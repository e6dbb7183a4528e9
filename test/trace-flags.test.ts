import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-trace-flags-');

/** The trace of `program` as lines without `PID TID  `, pointers as P and descriptors after '(' as N. */
async function traced(program: string, functions: string): Promise<string[]> {
	const file = path.join(scratch, `${path.basename(program)}.txt`);
	const run = await pdi(['trace', '-o', file, '-e', functions, '--', program], {timeout: 30_000});
	if (run.code !== 0) {
		throw new Error(run.stderr);
	}

	return readFileSync(file, 'utf8').split('\n').filter(line => line !== '')
		.map(line => line.replace(/^\d+ \d+ {2}/, '').replaceAll(/0x[\da-f]+/g, 'P'));
}

test('the flags of the calls that make descriptors show as names: epoll_create1, eventfd, timerfd_create, signalfd, inotify_init1, memfd_create, getrandom', async t => {
	// Before, epoll_create1(524288), and the others had no prototype: eventfd(0x0, 0x80800, 0x7ffc...) = 0x4.
	const program = compileC(scratch, 'fdmakers', String.raw`#define _GNU_SOURCE
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
int main(void) {
	epoll_create1(EPOLL_CLOEXEC); epoll_create1(0);
	eventfd(3, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec never = {0};
	timerfd_settime(t, TFD_TIMER_ABSTIME, &never, 0);
	sigset_t set; sigemptyset(&set);
	signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	int i = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	inotify_add_watch(i, "/", IN_CREATE | IN_DELETE | IN_ONLYDIR);
	memfd_create("m", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	char bytes[4]; getrandom(bytes, 4, GRND_NONBLOCK);
	struct timespec now; clock_gettime(CLOCK_REALTIME, &now);
	return 0;
}
`);
	t.deepEqual(await traced(program, 'epoll_create1,eventfd,timerfd_*,signalfd,inotify_*,memfd_create,getrandom,clock_gettime'), [
		'fdmakers!epoll_create1(EPOLL_CLOEXEC) = 3',
		'fdmakers!epoll_create1(0) = 4',
		'fdmakers!eventfd(3, EFD_SEMAPHORE|EFD_NONBLOCK|EFD_CLOEXEC) = 5',
		'fdmakers!timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC) = 6',
		'fdmakers!timerfd_settime(6, TFD_TIMER_ABSTIME, P, NULL) = 0',
		'fdmakers!signalfd(-1, P, SFD_NONBLOCK|SFD_CLOEXEC) = 7',
		'fdmakers!inotify_init1(IN_NONBLOCK|IN_CLOEXEC) = 8',
		'fdmakers!inotify_add_watch(8, "/", IN_CREATE|IN_DELETE|IN_ONLYDIR) = 1',
		'fdmakers!memfd_create("m", MFD_CLOEXEC|MFD_ALLOW_SEALING) = 9',
		'fdmakers!getrandom(P, 4, GRND_NONBLOCK) = 4',
		'fdmakers!clock_gettime(CLOCK_REALTIME, P) = 0',
	]);
});

test('commands, operations and flags of common calls show as names: fcntl and its argument by the command, epoll_ctl, madvise, msync, send, recv, flock, waitpid, unlinkat, shutdown, sigprocmask', async t => {
	const program = compileC(scratch, 'operations', String.raw`#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	int s[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	fcntl(s[0], F_GETFL); fcntl(s[0], F_SETFD, FD_CLOEXEC); fcntl(s[0], F_SETFL, O_RDWR | O_NONBLOCK);
	close(fcntl(s[0], F_DUPFD_CLOEXEC, 100)); fcntl(s[0], 12345);
	int e = epoll_create1(0);
	struct epoll_event event = {.events = EPOLLIN};
	epoll_ctl(e, EPOLL_CTL_ADD, s[1], &event);
	void *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(page, 4096, MADV_DONTNEED); msync(page, 4096, MS_SYNC | MS_INVALIDATE);
	char c = 'x';
	send(s[0], &c, 1, MSG_DONTWAIT | MSG_NOSIGNAL); recv(s[1], &c, 1, 0);
	flock(s[0], LOCK_EX | LOCK_NB);
	waitpid(-1, 0, WNOHANG);
	unlinkat(AT_FDCWD, "/no/such/dir", AT_REMOVEDIR);
	shutdown(s[0], SHUT_RDWR);
	sigset_t set; sigemptyset(&set);
	sigprocmask(SIG_BLOCK, &set, 0);
	return 0;
}
`);
	// The descriptor F_DUPFD_CLOEXEC returns is the first free from 100 in a process that ava may have given others.
	t.deepEqual((await traced(program, 'fcntl,epoll_ctl,madvise,msync,send,recv,flock,waitpid,unlinkat,shutdown,sigprocmask')).map(line => line.replace(/(F_DUPFD_CLOEXEC, 100\) = )1\d\d$/, '$1FD')), [
		'operations!fcntl(3, F_GETFL) = 2',
		'operations!fcntl(3, F_SETFD, FD_CLOEXEC) = 0',
		'operations!fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0',
		'operations!fcntl(3, F_DUPFD_CLOEXEC, 100) = FD',
		'operations!fcntl(3, 12345, ...) = -1 errno EINVAL',
		'operations!epoll_ctl(5, EPOLL_CTL_ADD, 4, P) = 0',
		'operations!madvise(P, 4096, MADV_DONTNEED) = 0',
		'operations!msync(P, 4096, MS_INVALIDATE|MS_SYNC) = 0',
		'operations!send(3, P, 1, MSG_DONTWAIT|MSG_NOSIGNAL) = 1',
		'operations!recv(4, P, 1, 0) = 1',
		'operations!flock(3, LOCK_EX|LOCK_NB) = 0',
		'operations!waitpid(-1, NULL, WNOHANG) = -1 errno ECHILD',
		'operations!unlinkat(AT_FDCWD, "/no/such/dir", AT_REMOVEDIR) = -1 errno ENOENT',
		'operations!shutdown(3, SHUT_RDWR) = 0',
		'operations!sigprocmask(SIG_BLOCK, P, NULL) = 0',
	]);
});

test('signal handlers, locale categories and the functions real programs call that had no prototype are decoded', async t => {
	// Before: signal(SIGPIPE, NULL) = NULL, setlocale(0, ""), and fnmatch, strtoimax, fstatfs, sigismember in hex.
	const program = compileC(scratch, 'misc', String.raw`#define _GNU_SOURCE
#include <fnmatch.h>
#include <inttypes.h>
#include <libintl.h>
#include <locale.h>
#include <signal.h>
#include <sys/vfs.h>
int main(void) {
	signal(SIGPIPE, SIG_IGN); signal(SIGPIPE, SIG_DFL);
	setlocale(LC_ALL, "C"); dcgettext(0, "done", LC_MESSAGES);
	fnmatch("*.c", "a.c", FNM_PERIOD);
	strtoimax("-42", 0, 10);
	struct statfs fs; fstatfs(0, &fs);
	sigset_t set; sigfillset(&set); sigismember(&set, SIGTERM);
	return 0;
}
`);
	t.deepEqual(await traced(program, 'signal,setlocale,dcgettext,fnmatch,strtoimax,fstatfs,sig*'), [
		'misc!signal(SIGPIPE, SIG_IGN) = SIG_DFL',
		'misc!signal(SIGPIPE, SIG_DFL) = SIG_IGN',
		'misc!setlocale(LC_ALL, "C") = "C"',
		'misc!dcgettext(NULL, "done", LC_MESSAGES) = "done"',
		'misc!fnmatch("*.c", "a.c", 4) = 0',
		'misc!strtoimax("-42", NULL, 10) = -42',
		'misc!fstatfs(0, P) = 0',
		'misc!sigfillset(P) = 0',
		'misc!sigismember(P, SIGTERM) = 1',
	]);
});

test('socket and socketpair show the protocol by name in the family it belongs to', async t => {
	// Before: the protocol was a bare number, whatever the family (socket(AF_INET, SOCK_DGRAM, 17)).
	const program = compileC(scratch, 'protocols', String.raw`#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
int main(void) {
	int s[2];
	socket(AF_INET, SOCK_STREAM, 0);
	socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
	socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	socket(AF_INET, SOCK_STREAM, 4242);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	return 0;
}
`);
	const lines = (await traced(program, 'socket*')).map(line => line.replace(/ = .*/, ''));
	t.deepEqual(lines, [
		'protocols!socket(AF_INET, SOCK_STREAM, IPPROTO_IP)',
		'protocols!socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)',
		'protocols!socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)',
		'protocols!socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)',
		'protocols!socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))',
		'protocols!socket(AF_INET, SOCK_STREAM, 4242)',
		'protocols!socketpair(AF_UNIX, SOCK_STREAM, 0, P)',
	]);
});

test('setsockopt and getsockopt show the level and the option name at that level', async t => {
	// Before: setsockopt(3, 6, 1, ...), as curl sets TCP_NODELAY.
	const program = compileC(scratch, 'sockopts', String.raw`#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
int main(void) {
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	socklen_t size = sizeof one;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &one, &size);
	setsockopt(s, 12345, 678, &one, sizeof one);
	return 0;
}
`);
	t.deepEqual(await traced(program, '*sockopt'), [
		'sockopts!setsockopt(3, IPPROTO_TCP, TCP_NODELAY, P, 4) = 0',
		'sockopts!setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, P, 4) = 0',
		'sockopts!getsockopt(3, SOL_SOCKET, SO_ERROR, P, P) = 0',
		'sockopts!setsockopt(3, 12345, 678, P, 4) = -1 errno ENOPROTOOPT',
	]);
});
