import { escapeTerminal } from '../../../../shared/text/index.ts';
import { globMatch } from '../../conditions.ts';
import { builtinRule, details, who } from './define.ts';

const SENSITIVE = [
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
    return path && SENSITIVE.some((g) => globMatch(g, path))
      ? `${who(e)} holds ${escapeTerminal(path)} open`
      : undefined;
  },
);

const SYSTEM_DIRS = /^\/(etc|bin|sbin|lib|lib64|usr\/bin|usr\/sbin|usr\/lib|usr\/local\/bin|usr\/local\/sbin)\//;

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
  (e) => {
    const path = e.file?.path;
    return path && details(e).write === true && SYSTEM_DIRS.test(path)
      ? `${who(e)} writes ${escapeTerminal(path)}`
      : undefined;
  },
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
  (e) => {
    const path = e.file?.path;
    return path && details(e).write === true && /^\/(etc\/cron|var\/spool\/cron)/.test(path)
      ? `${who(e)} writes ${escapeTerminal(path)}`
      : undefined;
  },
);
