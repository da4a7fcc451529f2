import type { ProcFs } from './proc-fs.ts';

/**
 * A ProcFs that answers some members itself and hands every other one to `base` as it is: the members the
 * interface has today, optional ones included (threadActivity, runTime, sockstat), every argument (net's `known`)
 * and any member added later. The decorator is `base` with `overrides` on top (`base` is its prototype), so
 * nothing has to be forwarded by hand and nothing can be forgotten; the ProcFs conformance suite
 * (test/sidecar/proc-fs-conformance.test.ts) runs over every implementation.
 */
export function decorateProcFs(base: ProcFs, overrides: Partial<ProcFs>): ProcFs {
  return Object.defineProperties(Object.create(base) as ProcFs, Object.getOwnPropertyDescriptors(overrides));
}
