// test/message/echo.test.ts again, with servers and clients on the completion engine (engine 'uring').
process.env.TEST_MESSAGE_ENGINE = 'uring';
await import('../echo.test.js');
