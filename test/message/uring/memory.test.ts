// test/message/memory.test.ts again, with servers and clients on the completion engine (engine 'uring').
process.env.TEST_MESSAGE_ENGINE = 'uring';
await import('../memory.test.js');
