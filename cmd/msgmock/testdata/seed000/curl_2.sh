curl -X POST "https://api.example-ai.com/v1/messages" \
  -H "Authorization: Bearer sk_test_51_fakeapikey123456" \
  -H "Content-Type: application/json" \
  -d '{
    "sender_id": "usr_82hd92",
    "sender_type": "user",
    "text": "Hello from curl!"
  }'
