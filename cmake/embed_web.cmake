# Turns web/**/*.{html,css,js,json} into a C table {path, content type, data, len}
# that http/ serves (src/http/http_web.c), so that llaved needs no web
# directory at run time.  Third-party browser code comes from web/vendor/
# (npm ci by scripts/setup, pinned by web/vendor/package-lock.json) and is
# served under vendor/<name>/ (issue 15 item 6: vendored at build time, no
# network at run time).
file(GLOB_RECURSE files RELATIVE ${WEB_DIR} ${WEB_DIR}/*.html ${WEB_DIR}/*.css
     ${WEB_DIR}/*.js ${WEB_DIR}/*.json)
list(FILTER files EXCLUDE REGEX "^vendor/")
list(SORT files)

# served path -> file under web/vendor/node_modules
set(vendored
    "vendor/pdfjs/pdf.min.mjs=pdfjs-dist/build/pdf.min.mjs"
    "vendor/pdfjs/pdf.worker.min.mjs=pdfjs-dist/build/pdf.worker.min.mjs"
    "vendor/pdfjs/LICENSE.txt=pdfjs-dist/LICENSE")

set(body "/* generated from web/ by cmake/embed_web.cmake; do not edit */\n#include \"http/web_assets_internal.h\"\n\n")
set(table "const lv_web_asset lv_web_assets[] = {\n")
set(i 0)

function(content_type name out)
  get_filename_component(ext ${name} EXT)
  if(ext STREQUAL ".html")
    set(${out} "text/html; charset=utf-8" PARENT_SCOPE)
  elseif(ext STREQUAL ".json")
    set(${out} "application/json" PARENT_SCOPE)
  elseif(ext STREQUAL ".css")
    set(${out} "text/css; charset=utf-8" PARENT_SCOPE)
  elseif(ext MATCHES "\\.m?js$")
    set(${out} "text/javascript; charset=utf-8" PARENT_SCOPE)
  else()
    set(${out} "text/plain; charset=utf-8" PARENT_SCOPE)
  endif()
endfunction()

macro(embed served source)
  content_type(${served} type)
  file(READ ${source} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const unsigned char asset${i}[] = {${hex}};\n")
  string(APPEND table "    {\"${served}\", \"${type}\", asset${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endmacro()

foreach(f ${files})
  embed(${f} ${WEB_DIR}/${f})
endforeach()
foreach(pair ${vendored})
  string(REPLACE "=" ";" parts "${pair}")
  list(GET parts 0 served)
  list(GET parts 1 source)
  set(source ${WEB_DIR}/vendor/node_modules/${source})
  if(NOT EXISTS ${source})
    message(FATAL_ERROR "${source} is missing: run scripts/setup "
                        "(npm ci in web/vendor)")
  endif()
  embed(${served} ${source})
endforeach()
string(APPEND table "};\nconst size_t lv_web_assets_count = sizeof lv_web_assets / sizeof lv_web_assets[0];\n")
file(WRITE ${OUT} "${body}\n${table}")
