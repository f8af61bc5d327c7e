//! The component behind `app:greet`: the exports of `wit/world.wit`, in Rust.

wit_bindgen::generate!({ world: "guest", path: "wit" });

struct Component;

impl Guest for Component {
    fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }
}

export!(Component);
