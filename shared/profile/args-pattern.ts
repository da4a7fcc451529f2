import { setFlagsFromString } from 'node:v8';

/**
 * The one place a user's regular expression is compiled: a profile's `processes[].args`, and `args` under a custom
 * rule's `match` and its `exceptions`, in profiles and policies alike. Lint (`profileRules`) and the watcher's rules
 * both ask here, so a pattern lint accepts is exactly a pattern the watcher can run.
 *
 * The text a pattern runs against is a process's arguments: the workload's, so an attacker's. A backtracking engine
 * takes exponential time on patterns like `^(\d+\s?)*$` (40 digits and a letter held the watcher's thread for
 * minutes, #15 item 2). So patterns run on V8's linear-time engine (the `l` flag, available once
 * `--enable-experimental-regexp-engine` is set: done here, before the first compile; the flag is process-wide and
 * only makes the `l` flag legal, it changes no other regular expression). Matching then costs at most pattern size ×
 * input size. What that engine cannot run (backreferences, lookahead, lookbehind on Node 20, large counted repetitions) is
 * refused with the reason; so is a pattern over ARGS_PATTERN_MAX_CHARS.
 *
 * The input is capped as well, at ARGS_INPUT_MAX_CHARS: longer arguments are not matched at all (cutting them would let
 * `^[a-z ]*$` allow whatever follows the cut). The caller says what such a command line counts as: a profile entry or
 * an exception does not hold for it (the process is judged as if unlisted), a custom rule's match does (it fires).
 */
export const ARGS_PATTERN_MAX_CHARS = 1000;
export const ARGS_INPUT_MAX_CHARS = 16 * 1024;

// V8 flags are process-wide: this remembers that it was set, so it is set once (it holds no state of its own)
let linearEngineEnabled = false;

/** Compiles a pattern for the linear-time engine: the regular expression, or why it cannot be one (lint's words). */
export function compileArgsPattern(source: string): { regex: RegExp } | { problem: string } {
  if (source.length > ARGS_PATTERN_MAX_CHARS)
    return { problem: `longer than ${ARGS_PATTERN_MAX_CHARS} characters (${source.length})` };
  if (!linearEngineEnabled) {
    setFlagsFromString('--enable-experimental-regexp-engine');
    linearEngineEnabled = true;
  }
  try {
    // eslint's no-invalid-regexp does not know V8's `l` (linear-time) flag
    // eslint-disable-next-line no-invalid-regexp
    return { regex: new RegExp(source, 'l') };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/linear time/i.test(message))
      return {
        problem:
          'cannot be matched in linear time (backreferences, lookaround and large counted repetitions are not supported)',
      };
    if (/invalid flags/i.test(message))
      return { problem: `this Node (${process.version}) has no linear-time regular expression engine` };
    return { problem: `not a valid regular expression (${message.replace(/^Invalid regular expression: /, '')})` };
  }
}

/**
 * Matches a compiled pattern against a process's joined arguments; `tooLong` is the answer for arguments longer than
 * ARGS_INPUT_MAX_CHARS (see above).
 */
export function testArgs(regex: RegExp, args: string, tooLong: boolean): boolean {
  return args.length > ARGS_INPUT_MAX_CHARS ? tooLong : regex.test(args);
}
