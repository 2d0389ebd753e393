#!/usr/bin/env node
// A minimal ESME for the README tour: binds as a transceiver, submits one message asking for a
// delivery receipt, prints the submit_sm_resp and the receipt (deliver_sm), then unbinds. With
// --mo it then also waits for one MO message (a deliver_sm that is not a receipt) and prints it.
// Usage: node contrib/smpp-demo-client.mjs [--mo] [host:port] [system_id] [password] [number] [text]
import smpp from 'smpp';

const argv = process.argv.slice(2);
const waitMo = argv.includes('--mo');
const [
  where = '127.0.0.1:2775',
  systemId = 'demo',
  password = 'demo-pw',
  number = '+420123456789',
  text = 'Hello over SMPP',
] = argv.filter((a) => a !== '--mo');
const session = smpp.connect({ url: `smpp://${where}` });
const fail = (why) => {
  console.error(why);
  process.exit(1);
};
let timer = setTimeout(() => fail('no receipt within 30 s'), 30_000);
let gotReceipt = false;
let gotMo = !waitMo;
session.on('error', (err) => fail(`connection failed: ${err.message}`));
session.on('deliver_sm', (pdu) => {
  session.send(pdu.response());
  const text = pdu.short_message?.message ?? '';
  if (pdu.esm_class & 0x04) {
    console.log(`deliver_sm (esm_class 0x${pdu.esm_class.toString(16)}, a receipt): ${text}`);
    gotReceipt = true;
    if (waitMo && !gotMo) {
      clearTimeout(timer);
      timer = setTimeout(() => fail('no MO within 120 s'), 120_000);
      console.log('waiting for an MO message (send one to the modem)...');
    }
  } else {
    console.log(`deliver_sm (MO) from ${pdu.source_addr} to ${pdu.destination_addr || '?'}: ${text}`);
    gotMo = true;
  }
  if (gotReceipt && gotMo) {
    clearTimeout(timer);
    session.unbind(() => session.close());
  }
});
session.bind_transceiver({ system_id: systemId, password, interface_version: 0x34 }, (pdu) => {
  if (pdu.command_status !== 0) fail(`bind refused: status 0x${pdu.command_status.toString(16)}`);
  console.log(`bound to ${where} as ${systemId}`);
  session.submit_sm(
    {
      source_addr: '12345',
      destination_addr: number,
      short_message: text,
      data_coding: 0,
      registered_delivery: 1,
    },
    (resp) => {
      if (resp.command_status !== 0) fail(`submit refused: status 0x${resp.command_status.toString(16)}`);
      console.log(`submit_sm_resp: message_id ${resp.message_id}`);
    },
  );
});
