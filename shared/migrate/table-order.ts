/**
 * Orders tables by foreign keys, referenced tables first. Cycles (store <-> staff in Pagila) are found as
 * strongly connected components (Tarjan) and kept together; the components are then ordered topologically.
 */

/** An edge: `from` has a foreign key referencing `to`. */
export interface ReferenceEdge {
  from: string;
  to: string;
}

/** The order and the cycles found. */
export interface TableOrder {
  order: string[];
  /** Components with more than one table, or a table referencing itself through another. */
  cycles: string[][];
}

/** Orders `tables` so each comes after the tables it references (cycle members adjacent, by name). */
export function orderByForeignKeys(tables: string[], edges: ReferenceEdge[]): TableOrder {
  const known = new Set(tables);
  const out = new Map<string, string[]>(tables.map((t) => [t, []]));
  for (const e of edges) if (known.has(e.from) && known.has(e.to) && e.from !== e.to) out.get(e.from)!.push(e.to);
  const components = stronglyConnected([...tables].sort(), out);
  // Tarjan emits a component only after every component it reaches: referenced tables come first already.
  return {
    order: components.flatMap((c) => [...c].sort()),
    cycles: components.filter((c) => c.length > 1).map((c) => [...c].sort()),
  };
}

function stronglyConnected(nodes: string[], edges: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  // Iterative, so a long chain of references cannot overflow the call stack.
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = [...(edges.get(frame.node) ?? [])].sort();
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        result.push(component);
      }
    }
  }
  return result;
}
