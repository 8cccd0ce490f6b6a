// test/message/app.test.ts again, with servers and clients on the completion engine (engine 'uring').
process.env.TEST_MESSAGE_ENGINE = 'uring';
await import('../app.test.js');
