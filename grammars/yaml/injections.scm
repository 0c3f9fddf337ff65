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

((block_mapping
   (block_mapping_pair
     key: (flow_node (plain_scalar (string_scalar) @_command))
     value: [(flow_node (flow_sequence (flow_node) @_shell . (flow_node) @_flag .))
             (block_node (block_sequence
               (block_sequence_item (flow_node) @_shell)
               .
               (block_sequence_item (flow_node) @_flag)
               .))])
   (block_mapping_pair
     key: (flow_node (plain_scalar (string_scalar) @_args))
     value: [(flow_node (flow_sequence . [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]))
             (block_node (block_sequence
               .
               (block_sequence_item
                 [(block_node (block_scalar) @injection.content)
                  [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]])))]))
 (#any-of? @_command "command" "entrypoint")
 (#any-of? @_args "args" "command")
 (#not-eq? @_command @_args)
 (#match? @_shell "^[\"']?(/usr)?(/bin/)?(ba|da|z|k|a)?sh[\"']?$")
 (#match? @_flag "^[\"']?-[a-zA-Z]*c[a-zA-Z]*[\"']?$")
 (#set! injection.language "bash"))

((block_mapping
   (block_mapping_pair
     key: (flow_node (plain_scalar (string_scalar) @_args))
     value: [(flow_node (flow_sequence . [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]))
             (block_node (block_sequence
               .
               (block_sequence_item
                 [(block_node (block_scalar) @injection.content)
                  [(flow_node (plain_scalar (string_scalar) @injection.content))
                    (flow_node [(double_quote_scalar) (single_quote_scalar)] @injection.content)]])))])
   (block_mapping_pair
     key: (flow_node (plain_scalar (string_scalar) @_command))
     value: [(flow_node (flow_sequence (flow_node) @_shell . (flow_node) @_flag .))
             (block_node (block_sequence
               (block_sequence_item (flow_node) @_shell)
               .
               (block_sequence_item (flow_node) @_flag)
               .))]))
 (#any-of? @_command "command" "entrypoint")
 (#any-of? @_args "args" "command")
 (#not-eq? @_command @_args)
 (#match? @_shell "^[\"']?(/usr)?(/bin/)?(ba|da|z|k|a)?sh[\"']?$")
 (#match? @_flag "^[\"']?-[a-zA-Z]*c[a-zA-Z]*[\"']?$")
 (#set! injection.language "bash"))
