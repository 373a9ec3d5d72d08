/** Injection token for the process's root pino logger. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
