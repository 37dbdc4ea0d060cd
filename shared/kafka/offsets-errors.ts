/** The error a refused offsets reset throws: the group is busy or the request cannot be met (HTTP 409). */
import { IcebridgeError, type IcebridgeErrorOptions } from '../errors';

/** A reset that cannot go on as asked: active members, a topic without partitions, a bad time. */
export class ConflictError extends IcebridgeError {
  constructor(message: string, options: IcebridgeErrorOptions = {}) {
    super('CONFLICT', message, options);
  }
}
