const payload = {
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

const result = await response.json();
console.log(result.data);
