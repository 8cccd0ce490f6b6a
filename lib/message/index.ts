/**
 * The Message layer: Message and its subclasses, and the server helper,
 * driving sockets with the pure codec of lib/protocol (which loads
 * without libc).
 */
export { Message, TIMEOUT_BUSY, TIMEOUT_BETWEEN } from './message.js';
export type { MessageLoop, MessageEngine } from './message.js';
export type { MessageEvents, MessageOptions, EventsMode } from './message.js';
export { EchoMessage } from './echo-message.js';
export type { EchoMessageEvents, EchoMessageOptions } from './echo-message.js';
export { ServerMessage } from './server-message.js';
export type { ServerMessageEvents, ServerMessageOptions, Responder, Reply } from './server-message.js';
export { ClientMessage } from './client-message.js';
export type { ClientMessageEvents, ClientMessageOptions } from './client-message.js';
export { MessageServer } from './message-server.js';
export type { MessageServerEvents, MessageServerOptions, MessageFactory } from './message-server.js';
export { MessageServerWorkers } from './server-workers.js';
export type { MessageServerWorkersEvents, MessageServerWorkersOptions, WorkerFactoryModule } from './server-workers.js';
