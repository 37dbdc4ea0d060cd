/** Waiting for a batch of table sub-orchestrations when one of them may fail as an instance. */
import type { OrchestrationContext, Task } from 'durable-functions';

/**
 * Yields one Task.all of `tasks` (a fresh one per batch: re-yielding tasks in a new Task.all makes the extension
 * schedule them again, azure-functions-durable-js#574). Task.all throws on the first instance that fails
 * (terminated, a host error) while the others may still run: then each unfinished task is waited for on its own
 * (yielding an already scheduled task adds no action), so a table still running is reported as it ends, not as
 * failed with another table's reason. Gives Task.all's error, or undefined when none failed; each task then holds
 * its own result or error.
 */
export function* settleBatch(context: OrchestrationContext, tasks: Task[]): Generator<Task, unknown, unknown> {
  try {
    yield context.df.Task.all(tasks);
    return undefined;
  } catch (error) {
    for (const task of tasks) {
      if (task.isCompleted || task.isFaulted) continue;
      try {
        yield task;
      } catch {
        // Its reason stays on the task.
      }
    }
    return error;
  }
}
