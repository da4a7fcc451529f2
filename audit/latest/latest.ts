import {
  classify,
  compareBuilds,
  mergeByImage,
  type ListedImage,
  type SealedBuild,
  type UnsealedImage,
} from './sealed-build.ts';

export interface LatestTarget {
  /** The image or container as the user named it. */
  ref: string;
  kind: 'image' | 'container';
  imageId: string;
}

export interface LatestAnswer {
  repository: string;
  source: string;
  /** Newest first. */
  builds: SealedBuild[];
  unsealed: UnsealedImage[];
  target?: {
    ref: string;
    kind: 'image' | 'container';
    imageId: string;
    /** 1-based position among the sealed builds; undefined when it is none of them. */
    position?: number;
    isLatest: boolean;
  };
}

/** Orders the sealed builds of a repository and places the target among them. */
export function answerLatest(
  repository: string,
  source: string,
  images: readonly ListedImage[],
  target?: LatestTarget,
): LatestAnswer {
  const builds: SealedBuild[] = [];
  const unsealed: UnsealedImage[] = [];
  for (const image of mergeByImage(images)) {
    const { build, unsealed: u } = classify(image);
    if (build) builds.push(build);
    if (u) unsealed.push(u);
  }
  builds.sort(compareBuilds);
  unsealed.sort((a, b) => (a.imageId < b.imageId ? -1 : 1));
  const answer: LatestAnswer = { repository, source, builds, unsealed };
  if (target) {
    const index = builds.findIndex((b) => b.imageId === target.imageId);
    answer.target = {
      ref: target.ref,
      kind: target.kind,
      imageId: target.imageId,
      ...(index >= 0 ? { position: index + 1 } : {}),
      isLatest: index === 0,
    };
  }
  return answer;
}
