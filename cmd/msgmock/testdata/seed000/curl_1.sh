curl -X POST "https://api.example-ai.com/v1/messages" \
  -H "Authorization: Bearer sk_test_51_fakeapikey123456" \
  -H "Content-Type: application/json" \
  -d '{
    "conversation_id": "con_9s2kd81",
    "sender_id": "usr_82hd92",
    "sender_type": "user",
    "text": "Can you summarize my last 5 calls?",
    "metadata": {
      "channel": "web",
      "locale": "en-US"
    },
    "auto_reply": true
  }'
