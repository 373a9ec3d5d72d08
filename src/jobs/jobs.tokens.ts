/** The QueueBackend (redis | postgres) of the process. */
export const QUEUE_BACKEND = Symbol('QUEUE_BACKEND');
