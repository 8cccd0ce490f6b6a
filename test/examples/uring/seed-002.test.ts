// test/examples/seed-002.test.ts again, the Message programs (multiconn-*, app-*)
// with --engine uring: the Real Python interop and the same checks on the ring.
process.env.TEST_PROGRAM_ENGINE = 'uring';
await import('../seed-002.test.js');
