// node exit-hooks.mjs forget|wait: starts msgmock through the client and
// prints {"pid","url"}; then, with forget, returns without stop() (Node
// ends as its event loop empties), with wait, waits for a signal. Either
// way msgmock must not outlive this process.
import { startMsgmock } from 'msgmock';

const mock = await startMsgmock();
console.log(JSON.stringify({ pid: mock.pid, url: mock.url }));
if (process.argv[2] === 'wait') setInterval(() => {}, 1000);
