/// The page at `/`: a chat box that streams answers from
/// `/v1/chat/completions`. Self-contained (no CDN): it must work offline.
let chatPage = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bitnet chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 46rem; margin: 1rem auto; padding: 0 1rem; }
  #log { border: 1px solid #ccc; border-radius: 6px; padding: .5rem; min-height: 16rem; white-space: pre-wrap; }
  .user { color: #064; margin: .4rem 0; } .assistant { color: #222; margin: .4rem 0; } .error { color: #a00; }
  form { display: flex; gap: .5rem; margin-top: .5rem; } #input { flex: 1; padding: .4rem; }
  #key { width: 10rem; }
</style>
</head>
<body>
<h1>bitnet chat</h1>
<div id="log"></div>
<form id="form">
  <input id="input" autocomplete="off" placeholder="Type a message and press Enter">
  <input id="key" type="password" placeholder="API key (if set)">
  <button id="send" type="submit">Send</button>
</form>
<script>
"use strict";
const log = document.getElementById("log");
const messages = [];
function line(cls, text) {
  const div = document.createElement("div");
  div.className = cls; div.textContent = text; log.appendChild(div); return div;
}
document.getElementById("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("input");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  messages.push({ role: "user", content: text });
  line("user", "you: " + text);
  const out = line("assistant", "");
  out.id = "answer-" + messages.length;
  const headers = { "Content-Type": "application/json" };
  const key = document.getElementById("key").value;
  if (key) headers["Authorization"] = "Bearer " + key;
  let answer = "";
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST", headers,
      body: JSON.stringify({ messages, stream: true, max_tokens: 128 }),
    });
    if (!response.ok) {
      const body = await response.json();
      throw new Error(body.error ? body.error.message : response.statusText);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let end;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        const event = pending.slice(0, end); pending = pending.slice(end + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const delta = chunk.choices.length ? chunk.choices[0].delta : {};
        if (delta.content) {
          answer += delta.content; out.textContent = "bitnet: " + answer;
          out.dataset.chunks = String(Number(out.dataset.chunks || 0) + 1);  // tests check it streamed
        }
      }
    }
    out.classList.add("done");
    messages.push({ role: "assistant", content: answer });
  } catch (error) {
    out.className = "error"; out.textContent = "error: " + error.message;
  }
});
</script>
</body>
</html>
"""#
