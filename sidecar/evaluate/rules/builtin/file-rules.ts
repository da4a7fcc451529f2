import type { Event } from '../../../../shared/events/index.ts';
import { escapeTerminal } from '../../../../shared/text/index.ts';
import { globMatch } from '../../conditions.ts';
import { builtinRule, details, who } from './define.ts';

/** The files `sensitive-file-open` is about (globs); file sight (sources/sight/) watches what they match. */
export const SENSITIVE_FILES = [
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/sudoers.d/**',
  '**/.ssh/id_*',
  '**/.ssh/authorized_keys',
  '/etc/ssh/ssh_host_*_key',
  '**/.aws/credentials',
  '**/.config/gcloud/**',
  '**/.azure/**',
  '**/.kube/config',
  '**/.docker/config.json',
];

export const sensitiveFileOpen = builtinRule(
  {
    id: 'sensitive-file-open',
    name: 'Sensitive file held open',
    description: 'A process holds /etc/shadow, /etc/sudoers, SSH keys or cloud credentials open.',
    severity: 7,
    category: 'credential-access',
    on: ['file-opened'],
  },
  (e) => {
    const path = e.file?.path;
    if (!path || !isSensitivePath(path)) return undefined;
    // file sight reports the open itself (inotify IN_OPEN), the poller a file still held open
    return details(e).seen_by === 'file-sight'
      ? `${who(e)} opened ${escapeTerminal(path)}`
      : `${who(e)} holds ${escapeTerminal(path)} open`;
  },
);

export const isSensitivePath = (path: string): boolean => SENSITIVE_FILES.some((g) => globMatch(g, path));

/** The directories `write-below-system-dir` is about (anything below them); file sight watches them. */
export const SYSTEM_DIRS = [
  '/etc',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/usr/bin',
  '/usr/sbin',
  '/usr/lib',
  '/usr/local/bin',
  '/usr/local/sbin',
] as const;
const BELOW_SYSTEM_DIR = new RegExp(`^(${SYSTEM_DIRS.map((d) => d.replaceAll('/', '\\/')).join('|')})\\/`);

/** The check of a rule about a file open for writing whose path matches `path`. */
function writesTo(path: RegExp): (e: Event) => string | undefined {
  return (e) => {
    const written = e.file?.path;
    return written && details(e).write === true && path.test(written)
      ? `${who(e)} writes ${escapeTerminal(written)}`
      : undefined;
  };
}

export const writeBelowSystemDir = builtinRule(
  {
    id: 'write-below-system-dir',
    name: 'Write below /etc or a binary directory',
    description:
      'A file under /etc, /bin, /sbin, /lib or /usr/bin is open for writing: configuration or binaries being changed at runtime.',
    severity: 7,
    category: 'persistence',
    on: ['file-opened'],
  },
  writesTo(BELOW_SYSTEM_DIR),
);

export const setuidFile = builtinRule(
  {
    id: 'setuid-file-created',
    name: 'New setuid/setgid file',
    description:
      'A setuid or setgid file appeared in a writable directory (/tmp, /var/tmp, /dev/shm) or a setuid program was run that is not in the profile.',
    severity: 7,
    category: 'privilege-escalation',
    on: ['setuid-file-found'],
  },
  (e) =>
    e.file?.path
      ? `setuid/setgid file ${escapeTerminal(e.file.path)} (mode ${String(details(e).mode ?? '?')})`
      : undefined,
);

export const cronWrite = builtinRule(
  {
    id: 'cron-file-write',
    name: 'Cron table written',
    description: 'A crontab or /etc/cron.* file is open for writing.',
    severity: 6,
    category: 'persistence',
    on: ['file-opened'],
  },
  writesTo(/^\/(etc\/cron|var\/spool\/cron)/),
);

export const executableWritten = builtinRule(
  {
    id: 'executable-written',
    name: 'Executable written at runtime',
    description:
      'A file was written, moved in or made executable in the running container that is not in the sealed inventory, or differs from it (unsealed: any executable written at runtime): a dropped payload, caught before it runs.',
    severity: 8,
    category: 'persistence',
    on: ['executable-written'],
  },
  (e) => {
    const path = e.file?.path;
    const why = details(e).drift;
    return path && typeof why === 'string'
      ? `executable ${escapeTerminal(path)} written at runtime: ${why}`
      : undefined;
  },
);
