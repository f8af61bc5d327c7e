// The chat page: one WebSocket to /ws/chat, relayed to the Lua chat room process. Each
// frame from the server is {"data": …, "topic": …}.
const log = document.getElementById("log");
const say = document.getElementById("say");
const line = (text) => {
  const li = document.createElement("li");
  li.textContent = text;
  log.appendChild(li);
};
let socket;
document.getElementById("join").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = document.getElementById("name").value;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/chat?name=${encodeURIComponent(name)}`);
  socket.onmessage = (ev) => {
    const { topic, data } = JSON.parse(ev.data);
    if (topic === "welcome") line(`you are ${data.name}; here: ${data.members.join(", ")}`);
    else if (topic === "joined") line(`${data.name} joined`);
    else if (topic === "left") line(`${data.name} left`);
    else if (topic === "message") line(`${data.from}: ${data.text}`);
  };
  socket.onclose = (ev) => line(`disconnected (${ev.code} ${ev.reason})`);
  e.target.hidden = true;
  say.hidden = false;
});
say.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = document.getElementById("text");
  socket.send(text.value);
  text.value = "";
});
