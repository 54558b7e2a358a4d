# Typesets docs/policy/*.ms (placeholder CPS and PDS, R8.1) to PDF with
# groff and turns the PDFs into a C table {name, data, len} that ca/
# installs into DIR/repository/.  Needs the Debian package groff (gropdf);
# groff-base alone has no PDF device.
file(GLOB files ${DOC_DIR}/*.ms)
list(SORT files)
file(MAKE_DIRECTORY ${PDF_DIR})
set(body "/* generated from docs/policy/ by cmake/embed_docs.cmake; do not edit */\n#include \"repo/repo_internal.h\"\n\n")
set(table "const lv_policy_doc lv_policy_docs[] = {\n")
set(i 0)
foreach(f ${files})
  get_filename_component(base ${f} NAME_WE)
  set(pdf ${PDF_DIR}/${base}.pdf)
  execute_process(COMMAND ${GROFF} -k -ms -Tpdf ${f} OUTPUT_FILE ${pdf}
                  RESULT_VARIABLE rc ERROR_VARIABLE msg)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "groff cannot typeset ${f} as PDF (${msg}): install the Debian package groff (scripts/setup)")
  endif()
  file(READ ${pdf} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const unsigned char doc${i}[] = {${hex}};\n")
  string(APPEND table "    {\"${base}.pdf\", doc${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND table "};\nconst size_t lv_policy_docs_count = sizeof lv_policy_docs / sizeof lv_policy_docs[0];\n")
file(WRITE ${OUT} "${body}\n${table}")
