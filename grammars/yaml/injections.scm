; triggers: run:, script:, command:, args:, entrypoint:
; Shell in CI steps (GitHub Actions `run:`, GitLab CI `script:`, `before_script:`, `after_script:`)
; and in container commands that run `sh -c`.

((block_mapping_pair
   key: (flow_node (plain_scalar (string_scalar) @_key))
   value: [(block_node (block_scalar) @injection.content)
           [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]])
 (#any-of? @_key "run" "script" "before_script" "after_script")
 (#set! injection.language "bash"))

((block_mapping_pair
   key: (flow_node (plain_scalar (string_scalar) @_key))
   value: (block_node (block_sequence (block_sequence_item
     [(block_node (block_scalar) @injection.content)
      [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]]))))
 (#any-of? @_key "script" "before_script" "after_script")
 (#set! injection.language "bash"))

; Kubernetes `command:`/`args:` and Compose `entrypoint:`/`command:`: `[sh, -c, script]` in one list,
; or `[sh, -c]` with the script first in the other list. Quoted scalars are injected without their
; quotes.

((block_mapping_pair
   key: (flow_node (plain_scalar (string_scalar) @_key))
   value: [(flow_node (flow_sequence
             (flow_node) @_shell
             .
             (flow_node) @_flag
             .
             [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]))
           (block_node (block_sequence
             (block_sequence_item (flow_node) @_shell)
             .
             (block_sequence_item (flow_node) @_flag)
             .
             (block_sequence_item
               [(block_node (block_scalar) @injection.content)
                [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]])))])
 (#any-of? @_key "command" "args" "entrypoint")
 (#match? @_shell "^[\"']?(/usr)?(/bin/)?(ba|da|z|k|a)?sh[\"']?$")
 (#match? @_flag "^[\"']?-[a-zA-Z]*c[a-zA-Z]*[\"']?$")
 (#set! injection.language "bash"))

; The split form: `[sh, -c]` in `command:`/`entrypoint:` and the script first in the other key
; (`args:`, or Compose's `command:`). `#has-sibling?` checks the shell list without a second
; sibling in the pattern, which would be quadratic in a mapping of thousands of keys.
((block_mapping_pair
   key: (flow_node (plain_scalar (string_scalar) @_args))
   value: [(flow_node (flow_sequence . [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]))
           (block_node (block_sequence
             .
             (block_sequence_item
               [(block_node (block_scalar) @injection.content)
                [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]])))]) @_pair
 (#any-of? @_args "args" "command")
 (#has-sibling? @_pair "^[\"']?(command|entrypoint)[\"']?[[:space:]]*:[[:space:]]*\\[?[[:space:]]*(-[[:space:]]+)?[\"']?(/usr)?(/bin/)?(ba|da|z|k|a)?sh[\"']?[[:space:]]*,?[[:space:]]*(-[[:space:]]+)?[\"']?-[a-zA-Z]*c[a-zA-Z]*[\"']?[[:space:]]*\\]?[[:space:]]*$")
 (#set! injection.language "bash"))
