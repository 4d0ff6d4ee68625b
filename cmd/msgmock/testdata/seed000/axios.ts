import axios, { AxiosResponse } from 'axios';

interface SendMessagePayload {
  conversation_id?: string;
  sender_id: string;
  sender_type: 'user' | 'agent' | 'system';
  text: string;
  reply_to_message_id?: string;
  metadata?: Record<string, unknown>;
  auto_reply?: boolean;
}

interface SendMessageResponse {
  status: 'success' | 'error';
  message: string;
  data: {
    conversation_id: string;
    message: {
      id: string;
      sender_id: string;
      sender_type: string;
      text: string;
      metadata?: Record<string, unknown>;
      created_at: string;
    };
    auto_reply_enqueued: boolean;
  } | null;
}

const payload: SendMessagePayload = {
  sender_id: 'usr_82hd92',
  sender_type: 'user',
  text: 'Hello from axios + TypeScript!'
};

const res: AxiosResponse<SendMessageResponse> = await axios.post(
  'https://api.example-ai.com/v1/messages',
  payload,
  {
    headers: {
      Authorization: 'Bearer sk_test_51_fakeapikey123456'
    }
  }
);

console.log(res.data.data?.message.id);
