fetch("/api/items").then((r) => r.json()).then(({ items }) => {
  const list = document.getElementById("items");
  for (const item of items) {
    const li = document.createElement("li");
    li.textContent = item.name;
    list.appendChild(li);
  }
});
const ticks = new EventSource("/api/ticks");
ticks.addEventListener("tick", (e) => {
  document.getElementById("ticks").textContent = JSON.parse(e.data).n;
});
