import type { ImageHistoryEntry } from '../../shared/docker/index.ts';

/**
 * The base image, from `docker history`: the newest history entry below the image itself that
 * carries a tag (a local parent image). Undefined when none is tagged (pass --base then).
 */
export function detectBaseImage(history: readonly ImageHistoryEntry[], imageId: string): string | undefined {
  for (const entry of history) {
    if (entry.Id === imageId) continue;
    const tag = entry.Tags?.find((t) => t !== '<none>:<none>');
    if (tag) return tag;
  }
  return undefined;
}
