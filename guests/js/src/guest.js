// The JavaScript guest of the call-path benchmarks (wit/world.wit). Kebab-case WIT names
// are camelCase here: `echo-users` is `echoUsers`.

let count = 0;

export function add(a, b) {
  return (a + b) | 0;
}

export function echoUsers(users) {
  return users;
}

export function calls() {
  count += 1;
  return count;
}
