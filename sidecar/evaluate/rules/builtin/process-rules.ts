import { programNames } from '../../../normalize/program.ts';
import { baseName, builtinRule, details, NETCATS, SHELLS, who } from './define.ts';

/** Built-in rules over process events. Names come from argv[0], comm and the exe (busybox). */
const has = (names: string[], set: ReadonlySet<string>): string | undefined => names.find((n) => set.has(n));

export const shellSpawnedByNonShell = builtinRule(
  {
    id: 'shell-spawned-by-non-shell',
    name: 'Shell spawned by a non-shell parent',
    description:
      'A shell started by a program that is not itself a shell (a server, a runtime): the classic sign of command injection or a web shell.',
    severity: 7,
    category: 'execution',
    on: ['process-started'],
    exceptions: [
      {
        description: 'container init wrappers start the entrypoint shell',
        match: { parent: '{tini,dumb-init,docker-init,catatonit,s6-*,runc,containerd-shim*}' },
      },
      { description: 'package scripts run through npm/yarn', match: { parent: '{npm,npx,yarn,pnpm,make}' } },
    ],
  },
  (e) => {
    const shell = has(programNames(e), SHELLS);
    const parent = e.process?.parent;
    // the user's own command, started by `watch -- COMMAND` (known by PID, not by a name a workload could take)
    if (!shell || !parent?.name || details(e).parent_is_watcher === true) return undefined;
    const parentNames = [parent.name, baseName(parent.executable)].filter((n): n is string => !!n);
    if (parentNames.some((n) => SHELLS.has(n))) return undefined;
    return `shell ${shell} (pid ${e.process!.pid}) spawned by ${parent.name} (pid ${parent.pid})`;
  },
);

export const terminalShell = builtinRule(
  {
    id: 'terminal-shell',
    name: 'Interactive shell on a terminal',
    description: 'A shell whose stdin is a terminal: someone ran `docker exec -it … sh` or `kubectl exec -it`.',
    severity: 5,
    category: 'execution',
    on: ['process-started'],
  },
  (e) => {
    const shell = has(programNames(e), SHELLS);
    return shell && details(e).stdin === 'tty' ? `interactive shell ${who(e)} on a terminal` : undefined;
  },
);

const NETCAT_EXEC = /(^|\s)(-e|-c|--exec|--sh-exec|--lua-exec)(\s|$)|\b(exec|system):|EXEC:|SYSTEM:/;

export const reverseShell = builtinRule(
  {
    id: 'reverse-shell',
    name: 'Reverse shell',
    description:
      'netcat/ncat/socat with an exec option, or a shell whose stdin or stdout is a network socket: a remote attacker driving a shell.',
    severity: 10,
    category: 'execution',
    on: ['process-started'],
  },
  (e) => {
    const names = programNames(e);
    const nc = has(names, NETCATS);
    const args = (e.process?.args ?? []).slice(1).join(' ');
    if (nc && NETCAT_EXEC.test(args)) return `${nc} started with an exec option: ${who(e)}`;
    const shell = has(names, SHELLS);
    const d = details(e);
    if (shell && (d.stdin === 'socket' || d.stdout === 'socket'))
      return `shell ${who(e)} with a network socket on stdin/stdout`;
    return undefined;
  },
);

const PACKAGE_MANAGERS = new Set([
  'apt',
  'apt-get',
  'aptitude',
  'dpkg',
  'apk',
  'yum',
  'dnf',
  'microdnf',
  'rpm',
  'zypper',
  'pip',
  'pip3',
  'gem',
  'conda',
]);
const JS_INSTALL = new Set(['npm', 'yarn', 'pnpm']);

export const packageManager = builtinRule(
  {
    id: 'package-manager-at-runtime',
    name: 'Package manager at runtime',
    description:
      'apt, dpkg, apk, yum, dnf, rpm, pip or `npm install` in a running container: software is being changed outside the build.',
    severity: 6,
    category: 'persistence',
    on: ['process-started'],
    allowedByProfile: true,
  },
  (e) => {
    const names = programNames(e);
    const pm = has(names, PACKAGE_MANAGERS);
    if (pm) return `package manager ${pm} ran: ${who(e)}`;
    const js = has(names, JS_INSTALL);
    const sub = e.process?.args?.[1];
    if (js && sub !== undefined && ['install', 'i', 'add', 'ci', 'update'].includes(sub))
      return `${js} ${sub} ran: ${who(e)}`;
    return undefined;
  },
);

const NETWORK_TOOLS = new Set([
  'nmap',
  'masscan',
  'zmap',
  'nc',
  'ncat',
  'netcat',
  'socat',
  'tcpdump',
  'tshark',
  'telnet',
  'nping',
  'hping3',
  'arp-scan',
  'ettercap',
]);

export const networkTool = builtinRule(
  {
    id: 'suspicious-network-tool',
    name: 'Suspicious network tool',
    description: 'nmap, netcat, socat, tcpdump, telnet and similar tools rarely belong in a production workload.',
    severity: 5,
    category: 'discovery',
    on: ['process-started'],
    allowedByProfile: true,
  },
  (e) => {
    const tool = has(programNames(e), NETWORK_TOOLS);
    return tool ? `network tool ${tool} ran: ${who(e)}` : undefined;
  },
);

const REMOTE_COPY = new Set(['scp', 'rsync', 'sftp', 'ftp', 'tftp', 'lftp']);

/** Where output goes that is not a file: stdout, or nowhere (a health check, a probe). */
const NOT_A_FILE = new Set(['-', '/dev/null', '/dev/stdout', '/dev/stderr']);

/**
 * Where wget writes: `-O FILE` (also grouped, `-qO-`), `--output-document=FILE`; nothing with `--spider`; without
 * either, a file named after the URL. Undefined when it writes no file.
 */
export function wgetOutput(args: readonly string[]): string | undefined {
  if (args.includes('--spider')) return undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--output-document(?:=(.*))?$/.exec(a) ?? /^-[a-zA-Z]*O(.*)$/.exec(a);
    if (!m) continue;
    const file = m[1] !== undefined && m[1] !== '' ? m[1] : args[i + 1];
    return file === undefined || NOT_A_FILE.has(file) ? undefined : file;
  }
  return 'a file named after the URL';
}

/** Where curl writes: `-o FILE` (also grouped, `-so FILE`), `--output FILE`, `-O`/`--remote-name`; else stdout. */
export function curlOutput(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--remote-name' || a === '--remote-name-all' || /^-[a-zA-Z]*O$/.test(a))
      return 'a file named after the URL';
    const m = /^--output(?:=(.*))?$/.exec(a) ?? /^-[a-zA-Z]*o(.*)$/.exec(a);
    if (!m) continue;
    const file = m[1] !== undefined && m[1] !== '' ? m[1] : args[i + 1];
    return file === undefined || NOT_A_FILE.has(file) ? undefined : file;
  }
  return undefined;
}

export const remoteCopy = builtinRule(
  {
    id: 'remote-copy-tool',
    name: 'Remote copy tool',
    description:
      'scp, rsync, ftp, or wget/curl writing a file (stdout or /dev/null is not a file: a health check is not a download): data or tools moving in or out.',
    severity: 5,
    category: 'exfiltration',
    on: ['process-started'],
    allowedByProfile: true,
  },
  (e) => {
    const names = programNames(e);
    const tool = has(names, REMOTE_COPY);
    if (tool) return `remote copy tool ${tool} ran: ${who(e)}`;
    // The wget/curl checks are about arguments: when none were captured (the process was gone before its
    // cmdline could be read, as a 1 ms health check often is) there is nothing to judge, so no claim is made.
    if ((e.process?.args ?? []).length === 0) return undefined;
    const args = (e.process?.args ?? []).slice(1);
    const wget = names.includes('wget') ? wgetOutput(args) : undefined;
    if (wget !== undefined) return `wget downloading to ${wget}: ${who(e)}`;
    const curl = names.includes('curl') ? curlOutput(args) : undefined;
    if (curl !== undefined) return `curl writing ${curl}: ${who(e)}`;
    return undefined;
  },
);

const TMP_EXEC = /^\/(tmp|dev\/shm|var\/tmp|run\/shm)\//;

export const execFromTmp = builtinRule(
  {
    id: 'exec-from-tmp',
    name: 'Execution from a temporary directory',
    description: 'A program run from /tmp, /var/tmp or /dev/shm: typical of dropped payloads.',
    severity: 8,
    category: 'execution',
    on: ['process-started'],
  },
  (e) => {
    const exe = e.process?.executable;
    return exe && TMP_EXEC.test(exe) ? `${who(e)} runs from ${exe}` : undefined;
  },
);

export const execDeleted = builtinRule(
  {
    id: 'exec-deleted-or-memfd',
    name: 'Execution of a deleted or in-memory file',
    description: 'The executable was deleted after start, or lives only in memory (memfd): fileless malware.',
    severity: 8,
    category: 'defense-evasion',
    on: ['process-started'],
  },
  (e) => {
    const d = details(e);
    if (d.exe_memfd === true) return `${who(e)} runs from an in-memory file (${e.process?.executable ?? 'memfd'})`;
    if (d.exe_deleted === true) return `${who(e)} runs a deleted executable (${e.process?.executable ?? '?'})`;
    return undefined;
  },
);

export const privilegeToRoot = builtinRule(
  {
    id: 'privilege-change-to-root',
    name: 'Privilege change to root',
    description:
      'A process became uid 0 (setuid binary, sudo, su, or a kernel exploit) while its parent, or itself before, was not root.',
    severity: 8,
    category: 'privilege-escalation',
    on: ['process-started', 'process-uid-changed'],
  },
  (e) => {
    const d = details(e);
    if (d.euid !== 0) return undefined;
    if (e.event.action === 'process-uid-changed' && typeof d.from_euid === 'number' && d.from_euid !== 0)
      return `${who(e)} changed euid ${d.from_euid} → 0`;
    if (e.event.action === 'process-started' && typeof d.parent_euid === 'number' && d.parent_euid !== 0)
      return `${who(e)} runs as root under a parent running as uid ${d.parent_euid}`;
    return undefined;
  },
);

export const ptraceAttach = builtinRule(
  {
    id: 'ptrace-attach',
    name: 'Process traced (ptrace)',
    description: 'A process is being traced (TracerPid ≠ 0): debugging, credential theft or code injection.',
    severity: 8,
    category: 'defense-evasion',
    on: ['process-started', 'process-traced'],
  },
  (e) => {
    const tracer = details(e).tracer_pid;
    return typeof tracer === 'number' && tracer !== 0 ? `${who(e)} is traced by pid ${tracer}` : undefined;
  },
);

const MINERS = new Set([
  'xmrig',
  'xmr-stak',
  'minerd',
  'cpuminer',
  'ethminer',
  'nbminer',
  't-rex',
  'lolminer',
  'cgminer',
  'bfgminer',
]);

export const cryptoMinerProcess = builtinRule(
  {
    id: 'crypto-miner',
    name: 'Crypto-mining program',
    description: 'A known miner binary, or arguments naming a stratum mining pool.',
    severity: 9,
    category: 'impact',
    on: ['process-started'],
  },
  (e) => {
    const miner = has(programNames(e), MINERS);
    if (miner) return `crypto miner ${miner} ran: ${who(e)}`;
    const args = (e.process?.args ?? []).join(' ');
    return /stratum\+(tcp|ssl|tls):\/\//i.test(args) ? `${who(e)} talks to a stratum mining pool` : undefined;
  },
);

export const sshdRunning = builtinRule(
  {
    id: 'sshd-running',
    name: 'SSH server running',
    description: 'sshd or dropbear runs inside a container: a remote-access backdoor unless it is the product.',
    severity: 8,
    category: 'persistence',
    on: ['process-started'],
    allowedByProfile: true,
  },
  (e) => {
    const name = has(programNames(e), new Set(['sshd', 'dropbear']));
    return name ? `${name} is running: ${who(e)}` : undefined;
  },
);

export const cronActivity = builtinRule(
  {
    id: 'cron-activity',
    name: 'Cron or at in a container',
    description: 'cron, crond, crontab, anacron or atd started at runtime: scheduled persistence.',
    severity: 5,
    category: 'persistence',
    on: ['process-started'],
    allowedByProfile: true,
  },
  (e) => {
    const name = has(programNames(e), new Set(['cron', 'crond', 'crontab', 'anacron', 'atd', 'at']));
    return name ? `${name} ran: ${who(e)}` : undefined;
  },
);

export const kubectlRun = builtinRule(
  {
    id: 'kubernetes-client',
    name: 'Kubernetes client in a container',
    description: 'kubectl, helm or crictl run from inside a workload: lateral movement through the cluster API.',
    severity: 6,
    category: 'lateral-movement',
    on: ['process-started'],
    allowedByProfile: true,
  },
  (e) => {
    const name = has(programNames(e), new Set(['kubectl', 'helm', 'crictl', 'ctr']));
    return name ? `${name} ran: ${who(e)}` : undefined;
  },
);
