#!/usr/bin/env node
// The reference for bench/smpp.mjs: an SMPP server on the same `smpp` package that stores nothing,
// accepts any bind and answers every submit_sm at once. Prints "listening <port>".
import smpp from 'smpp';

let n = 0;
const server = smpp.createServer({}, (session) => {
  session.socket.setNoDelay(true); // as smppd does: no Nagle delay on responses
  session.on('error', () => session.destroy());
  for (const b of ['bind_transceiver', 'bind_transmitter', 'bind_receiver'])
    session.on(b, (pdu) => session.send(pdu.response({ system_id: 'null' })));
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on('submit_sm', (pdu) => session.send(pdu.response({ message_id: String(++n) })));
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
