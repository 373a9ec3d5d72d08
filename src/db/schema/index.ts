export * from './identity';
export * from './analytics';
export * from './events';
export * from './campaigns';
export * from './leads';
export * from './email';
export * from './sequences';
export * from './integrations';
