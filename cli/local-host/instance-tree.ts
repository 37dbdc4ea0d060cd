/**
 * Which instances form one run: a root and its sub-orchestrations. Sub-orchestration ids start with the root's id
 * and `:` (`R:table:0`, `R:verify`; request ids never contain `:`), and every child records its parent, so a child
 * with an id of another shape still belongs to the run its parents lead to.
 */

/** Separates a root instance id from the ids of its sub-orchestrations. */
export const TREE_SEPARATOR = ':';

/** The root of `instanceId`: followed through parent ids while the parent is known (cycles end the walk). */
export function rootOf(instanceId: string, parentOf: (id: string) => string | undefined, known: (id: string) => boolean): string {
  const seen = new Set<string>([instanceId]);
  let id = instanceId;
  for (let parent = parentOf(id); parent !== undefined && known(parent) && !seen.has(parent); parent = parentOf(id)) {
    seen.add(parent);
    id = parent;
  }
  return id;
}

/** Whether `instanceId` belongs to the run rooted at `rootId`. */
export function inTree(instanceId: string, rootId: string, rootOfId: (id: string) => string): boolean {
  return instanceId === rootId || instanceId.startsWith(`${rootId}${TREE_SEPARATOR}`) || rootOfId(instanceId) === rootId;
}
