import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandPath, commandTree } from '../../cli/main.ts';
import { flagInfos, flagSpecOf } from '../../cli/flags.ts';
import { DEFAULT_DOCKER_SOCKET } from '../../shared/docker/socket.ts';
import { captureIo, runCliCaptured } from '../harness/cli.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The long options a flag schema stands for: its keys (a switch on by default as --no-KEY), and --config. */
function optionsOf(command: ReturnType<typeof commandTree>[number]): { declared: string[]; fromSchema: string[] } {
  const spec = flagSpecOf(command)!;
  const fromSchema = flagInfos(spec.schema).flatMap((info) =>
    info.kind !== 'switch'
      ? [`--${info.name}`]
      : info.defaultValue === true
        ? [`--no-${info.name}`]
        : info.defaultValue === false
          ? [`--${info.name}`]
          : [`--${info.name}`, `--no-${info.name}`],
  );
  if (spec.configFile) fromSchema.push('--config');
  const declared = command.options.map((o) => o.long!).filter((l) => l !== '--help' && l !== '--version');
  return { declared: declared.sort(), fromSchema: fromSchema.sort() };
}

describe('flags come from the commands’ zod schemas', () => {
  const program = buildProgram(captureIo().io);

  it.each(commandTree(program).map((c) => [commandPath(c), c] as const))(
    '%s declares exactly the flags of its schema',
    (_path, command) => {
      const declared = command.options.filter((o) => o.long !== '--help' && o.long !== '--version');
      if (declared.length === 0) return;
      expect(flagSpecOf(command), 'flags declared outside addFlags').toBeDefined();
      const { declared: names, fromSchema } = optionsOf(command);
      expect(names).toEqual(fromSchema);
    },
  );

  it('shows a flag’s default from the schema (never a second copy as a string)', async () => {
    const help = await runCliCaptured(['watch', '--help']);
    expect(help.stdout).toMatch(/--tick <ms> +process poll interval in ms \(default: 100, env:\s+SEALWATCH_TICK\)/);
    const doctor = await runCliCaptured(['doctor', '--help']);
    expect(doctor.stdout.replace(/\s+/g, ' ')).toContain(`Docker engine socket (default: ${DEFAULT_DOCKER_SOCKET}`);
  });

  it('reports every cross-field problem of watch at once, one line each, exit 2', async () => {
    const run = await runCliCaptured(
      ['watch', '--dry-run', '--on-unsealed', 'stop', '--container', 'app', '--api-token-env', 'NOPE', '--', 'true'],
      { env: {} },
    );
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'sealwatch: --api-token-env NOPE: the variable is empty or unset',
      'sealwatch: --container and -- COMMAND cannot be combined',
      'sealwatch: --dry-run only makes sense with --mode enforce',
      'sealwatch: --on-unsealed stop only makes sense with --mode enforce',
    ]);
  });

  it('reports every bad value at once, each named where it came from', async () => {
    const run = await runCliCaptured(['watch', '--tick', '5', '--emit', 'some', '--', 'true'], {
      env: { SEALWATCH_KILL_MIN_SEVERITY: 'dire' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n').sort()).toEqual([
      'sealwatch: --emit: Invalid option: expected one of "alerts"|"all"',
      'sealwatch: --tick: milliseconds, a whole number from 10 to 10000',
      'sealwatch: SEALWATCH_KILL_MIN_SEVERITY: a severity: info, low, medium, high, critical or 0–10',
    ]);
  });

  it('learn: its rules, all at once', async () => {
    const run = await runCliCaptured(['learn', '--docker', '--out', 'p.yaml', '--listen', '127.0.0.1:9', '--', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'sealwatch: learn --docker learns a container: it cannot be combined with -- COMMAND',
      'sealwatch: learn --docker learns one container: give --container ID|NAME',
      'sealwatch: learn --docker needs --duration (e.g. 60s)',
      'sealwatch: learn --docker serves no API (--listen, --api-token-env): it ends after --duration or on SIGINT/SIGTERM',
    ]);
    const missing = await runCliCaptured(['learn']);
    expect(missing.stderr).toBe('sealwatch: --out is required\n');
  });

  it('the Docker socket default is written once, in shared/docker/socket.ts', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) files.push(path);
      }
    };
    for (const dir of ['cli', 'shared', 'sidecar', 'action', 'audit', 'admission']) walk(join(ROOT, dir));
    const holders = files
      .filter((f) => readFileSync(f, 'utf8').includes(`'${DEFAULT_DOCKER_SOCKET}'`))
      .map((f) => relative(ROOT, f));
    expect(holders).toEqual(['shared/docker/socket.ts']);
  });
});
