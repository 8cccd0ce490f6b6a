// test/message/emfile.test.ts again, the server on the completion engine (engine 'uring').
process.env.TEST_MESSAGE_ENGINE = 'uring';
await import('../emfile.test.js');
