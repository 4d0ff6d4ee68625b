// The seed's fetch and axios examples (seed 000, "Code Examples"), typed
// with what openapi-typescript generates from the Conversations document
// msgmock serves: the axios example's hand-written SendMessagePayload and
// SendMessageResponse give way to the generated types. TestSeedExampleTypes
// (cmd/msgmock) generates ./generated/openapi-typescript.ts, compiles this
// file with tsc --strict, then runs it against msgmock.
import axios, { AxiosResponse } from 'axios';
import type { components, paths } from './generated/openapi-typescript';

type SendMessagePayload = paths['/v1/messages']['post']['requestBody']['content']['application/json'];
type SendMessageResponse = paths['/v1/messages']['post']['responses']['200']['content']['application/json'];
type ErrorResponse = components['schemas']['Error'];

// JavaScript (fetch)
const payload: SendMessagePayload = {
  conversation_id: 'con_9s2kd81',
  sender_id: 'usr_82hd92',
  sender_type: 'user',
  text: 'Hello from fetch!',
  auto_reply: true
};

const response = await fetch('https://api.example-ai.com/v1/messages', {
  method: 'POST',
  headers: {
    Authorization: 'Bearer sk_test_51_fakeapikey123456',
    'Content-Type': 'application/json'
  },
  body: JSON.stringify(payload)
});

const result: SendMessageResponse | ErrorResponse = await response.json();
console.log(result.data);

// The curl example's body: metadata is free-form.
const withMetadata: SendMessagePayload = {
  conversation_id: 'con_9s2kd81',
  sender_id: 'usr_82hd92',
  sender_type: 'user',
  text: 'Can you summarize my last 5 calls?',
  metadata: {
    channel: 'web',
    locale: 'en-US'
  },
  auto_reply: true
};

// TypeScript (axios)
const axiosPayload: SendMessagePayload = {
  sender_id: 'usr_82hd92',
  sender_type: 'user',
  text: 'Hello from axios + TypeScript!'
};

const sent: AxiosResponse<SendMessageResponse> = await axios.post(
  'https://api.example-ai.com/v1/messages',
  withMetadata,
  {
    headers: {
      Authorization: 'Bearer sk_test_51_fakeapikey123456'
    }
  }
);

console.log(sent.data.data.message.metadata);

const res: AxiosResponse<SendMessageResponse> = await axios.post(
  'https://api.example-ai.com/v1/messages',
  axiosPayload,
  {
    headers: {
      Authorization: 'Bearer sk_test_51_fakeapikey123456'
    }
  }
);

console.log(res.data.data?.message.id);
