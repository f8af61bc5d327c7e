// The component behind app:greet: one exported function per export of wit/world.wit
// (kebab-case WIT names become camelCase here: `say-hello` is `sayHello`).

export function greet(name) {
  return `Hello, ${name}!`;
}
