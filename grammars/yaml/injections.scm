; Shell in CI steps: GitHub Actions `run:`, GitLab CI `script:` (and before/after_script).

((block_mapping_pair
   key: (flow_node (plain_scalar (string_scalar) @_key))
   value: [(block_node (block_scalar) @injection.content)
           (flow_node (plain_scalar (string_scalar) @injection.content))])
 (#any-of? @_key "run" "script" "before_script" "after_script")
 (#set! injection.language "bash"))

((block_mapping_pair
   key: (flow_node (plain_scalar (string_scalar) @_key))
   value: (block_node (block_sequence (block_sequence_item
     [(block_node (block_scalar) @injection.content)
      (flow_node (plain_scalar (string_scalar) @injection.content))]))))
 (#any-of? @_key "script" "before_script" "after_script")
 (#set! injection.language "bash"))
