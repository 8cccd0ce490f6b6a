// test/message/workers.test.ts again, every worker's loop on the completion engine (engine 'uring').
process.env.TEST_MESSAGE_ENGINE = 'uring';
await import('../workers.test.js');
