;; The smallest core-module guest: no memory, no imports, one export.
;; WIT signature (answer.wit): answer: func() -> s32;
(module
  (func (export "answer") (result i32)
    i32.const 42))
