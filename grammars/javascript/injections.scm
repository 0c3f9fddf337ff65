; languages: javascript, typescript, tsx
; triggers: \bquery\b, queryraw, execute, \braw\b, \bexec\b, execsync, unsafe, \bsql\b
; SQL passed to database clients and `sql` tagged templates; shell passed to child_process.

((call_expression
   function: (member_expression property: (property_identifier) @_method)
   arguments: (arguments . [(string (string_fragment) @injection.content)
                            (template_string (string_fragment) @injection.content)]))
 (#any-of? @_method "query" "execute" "raw" "$executeRawUnsafe" "$queryRawUnsafe" "exec" "unsafe")
 (#set! injection.language "sql"))

((call_expression
   function: [(identifier) @_tag (member_expression property: (property_identifier) @_tag)]
   arguments: (template_string (string_fragment) @injection.content))
 (#any-of? @_tag "sql" "$executeRaw" "$queryRaw" "raw")
 (#set! injection.language "sql"))

((call_expression
   function: [(identifier) @_function (member_expression property: (property_identifier) @_function)]
   arguments: (arguments . [(string (string_fragment) @injection.content)
                            (template_string (string_fragment) @injection.content)]))
 (#any-of? @_function "exec" "execSync")
 (#set! injection.language "bash"))
