import type { z } from 'zod';

/** `processes[2].exe`, `network.egress[0]`, or `(root)` for the document itself. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * One line per problem, each naming the file and the field path:
 * `profile.yaml: network.listen[0].port: expected a number from 1 to 65535, got "http"`.
 * zod's own messages are kept (they are already human); only the framing is ours.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], source: string): string[] {
  return issues.map((issue) => `${source}: ${formatPath(issue.path)}: ${issueMessage(issue)}`);
}

/** zod's message of one issue on one line, with unknown keys named. */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message.replace(/\s+/g, ' ');
}
