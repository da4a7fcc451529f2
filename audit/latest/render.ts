import { escapeTerminal as t } from '../report/escape.ts';
import type { LatestAnswer } from './latest.ts';

const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/**
 * Human answer. Labels are pointers: a build whose seal was not verified (no --pub, or it failed)
 * is marked `[unverified]`; the answer line about the target comes first.
 */
export function renderLatest(answer: LatestAnswer): string {
  const lines: string[] = [];
  const target = answer.target;
  if (target) {
    const name = `${target.kind} ${t(target.ref)} (image ${short(target.imageId)})`;
    const latest = answer.builds[0];
    const mark = latest && latest.verified !== true ? ' [unverified]' : '';
    if (target.isLatest) lines.push(`${name} IS the latest sealed build of ${t(answer.repository)}${mark}`);
    else if (target.position !== undefined)
      lines.push(
        `${name} is NOT the latest sealed build of ${t(answer.repository)}: it is #${target.position} of ${answer.builds.length}; latest is ${latest ? t(latest.tags.join(', ') || short(latest.imageId)) : '?'}${mark}`,
      );
    else lines.push(`${name} is NOT a sealed build of ${t(answer.repository)} known to ${t(answer.source)}`);
  }
  lines.push(`sealed builds of ${t(answer.repository)} in ${t(answer.source)}, newest first: ${answer.builds.length}`);
  answer.builds.forEach((b, i) => {
    const flag =
      b.verified === true
        ? 'verified'
        : b.verifyProblem !== undefined
          ? `[unverified: ${t(b.verifyProblem)}]`
          : '[unverified label]';
    const number = b.buildNumber !== undefined ? ` #${b.buildNumber}` : '';
    const revision = b.revision !== undefined ? ` rev ${t(b.revision.slice(0, 12))}` : '';
    lines.push(
      `${i + 1}. ${t(b.tags.join(', ') || '(untagged)')}${number} built ${t(b.buildTime)}${revision} image ${short(b.imageId)} identity ${short(b.identity)} key ${t(b.keyHint)} ${flag}`,
    );
  });
  if (answer.unsealed.length > 0) {
    lines.push(
      `not sealed: ${answer.unsealed.map((u) => `${t(u.tags.join(', ') || short(u.imageId))} (${t(u.reason)})`).join('; ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
