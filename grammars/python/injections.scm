; triggers: execute, \braw\b, \btext\b, read_sql, exec_driver_sql, subprocess, system, popen
; SQL passed to database APIs, and shell commands passed to the OS.

((call
   function: (attribute attribute: (identifier) @_method)
   arguments: (argument_list . (string (string_content) @injection.content)))
 (#any-of? @_method "execute" "executemany" "executescript" "raw" "text" "read_sql" "read_sql_query" "exec_driver_sql")
 (#set! injection.language "sql"))

((call
   function: (identifier) @_function
   arguments: (argument_list . (string (string_content) @injection.content)))
 (#eq? @_function "text")
 (#set! injection.language "sql"))

((call
   function: (attribute object: (identifier) @_module attribute: (identifier) @_function)
   arguments: (argument_list . (string (string_content) @injection.content)))
 (#any-of? @_module "os" "subprocess")
 (#any-of? @_function "system" "popen" "run" "call" "check_call" "check_output" "Popen" "getoutput" "getstatusoutput")
 (#set! injection.language "bash"))
