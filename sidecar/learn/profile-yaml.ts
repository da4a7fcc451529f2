import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Profile } from '../../shared/profile/index.ts';

/**
 * A profile as readable, commented YAML. Strings are JSON-quoted (valid YAML double-quoted
 * scalars), so hostile names cannot break the document. No timestamps: the body is stable.
 */
export function profileToYaml(profile: Profile, header: readonly string[] = []): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines: string[] = [
    ...header.map((h) => `# ${h.replace(/[\r\n]+/g, ' ')}`),
    'apiVersion: sealwatch.dev/v1',
    'kind: Profile',
    'metadata:',
  ];
  if (profile.metadata.name) lines.push(`  name: ${q(profile.metadata.name)}`);
  lines.push(`  source: ${profile.metadata.source ?? 'learned'}`);
  lines.push('', '# What may run: executable path, program name for multi-call binaries (busybox), and users.');
  if (profile.processes.length === 0) lines.push('processes: []');
  else {
    lines.push('processes:');
    for (const p of profile.processes) {
      const parts = [`exe: ${q(p.exe)}`];
      if (p.name) parts.push(`name: ${q(p.name)}`);
      if (p.sha256) parts.push(`sha256: ${p.sha256}`);
      if (p.users) parts.push(`users: [${p.users.map((u) => (typeof u === 'number' ? String(u) : q(u))).join(', ')}]`);
      if (p.args) parts.push(`args: ${q(p.args)}`);
      lines.push(`  - { ${parts.join(', ')} }`);
    }
  }
  lines.push('', '# Sockets it listens on, and where it connects (loopback is internal and never listed).', 'network:');
  lines.push(profile.network.listen.length === 0 ? '  listen: []' : '  listen:');
  for (const l of profile.network.listen) lines.push(`    - { port: ${l.port}, protocol: ${l.protocol} }`);
  lines.push(profile.network.egress.length === 0 ? '  egress: []' : '  egress:');
  for (const e of profile.network.egress) {
    const parts = [e.cidr ? `cidr: ${q(e.cidr)}` : `host: ${q(e.host ?? '')}`];
    if (e.ports) parts.push(`ports: [${e.ports.join(', ')}]`);
    if (e.protocol) parts.push(`protocol: ${e.protocol}`);
    lines.push(`    - { ${parts.join(', ')} }`);
  }
  lines.push(
    '',
    '# Limits: observed p99 memory and max process count, times the headroom factor, rounded up to a power of two.',
  );
  const r = profile.resources;
  if (!r.memoryMiB && !r.processes && !r.cpuPercent) lines.push('resources: {}');
  else {
    lines.push('resources:');
    if (r.memoryMiB) lines.push(`  memoryMiB: { max: ${r.memoryMiB.max} }`);
    if (r.processes) lines.push(`  processes: { max: ${r.processes.max} }`);
    if (r.cpuPercent) lines.push(`  cpuPercent: { max: ${r.cpuPercent.max} }`);
  }
  lines.push('', '# Built-in rules to turn off, and rules of your own (see docs/rules.md).', 'rules:');
  lines.push(`  disable: [${profile.rules.disable.map(q).join(', ')}]`);
  lines.push(profile.rules.custom.length === 0 ? '  custom: []' : `  custom: ${JSON.stringify(profile.rules.custom)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Writes a learned profile to a temp file beside `file`, then renames it: never a half-written profile.
 * The header is the one `sealwatch learn` writes in every mode.
 */
export function writeProfileFile(file: string, profile: Profile, target: string, notes: readonly string[] = []): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(
    tmp,
    profileToYaml(profile, [
      'Learned by `sealwatch learn`. Review it, edit it, commit it; `sealwatch seal --profile` seals it into the image.',
      `Target: ${target}`,
      ...notes,
    ]),
  );
  renameSync(tmp, file);
}
