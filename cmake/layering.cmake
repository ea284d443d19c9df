# Dependencies in core/ point one way. Each folder may include its own
# headers and those of the folders before it in SIEVE_LAYERS, never one after
# it (core/engine.h is the engine layer's public header). Run as a script on
# every build (core/CMakeLists.txt: target check_layering, which sieve_core
# depends on), so a back-edge fails the build with the file and the include.
#
#   cmake -DCORE_DIR=.../core -P cmake/layering.cmake
set(SIEVE_LAYERS
  util        # errors, threads, files
  tensor      # types, kernels, matmul
  gguf        # the file format
  sampling
  tokenizer   # vocabularies, chat templates
  model       # recipes, weights, the forward pass
  synth       # `sieve synth`
  import      # llama2.c checkpoints
  flash       # packs, streaming from the SSD
  sparse      # predictors, the neuron store, the sparse FFN
  engine      # engine.h and engine/: the modes composed
  calibration # above the engine: calibrating packs, fidelity
  bench       # above the engine: measurements
  chat        # above the engine: chat sessions
)

if(NOT CORE_DIR)
  message(FATAL_ERROR "layering.cmake: set CORE_DIR")
endif()

set(back_edges "")
foreach(layer IN LISTS SIEVE_LAYERS)
  list(FIND SIEVE_LAYERS ${layer} rank)
  file(GLOB_RECURSE sources "${CORE_DIR}/${layer}/*.h" "${CORE_DIR}/${layer}/*.cpp" "${CORE_DIR}/${layer}/*.inc")
  if(layer STREQUAL "engine")
    list(APPEND sources "${CORE_DIR}/engine.h")
  endif()
  foreach(source IN LISTS sources)
    file(STRINGS "${source}" includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*$" "\\1" header "${line}")
      if(header STREQUAL "engine.h")
        set(target_layer engine)
      else()
        string(REGEX REPLACE "/.*$" "" target_layer "${header}")
      endif()
      list(FIND SIEVE_LAYERS "${target_layer}" target_rank)
      if(target_rank GREATER rank)
        file(RELATIVE_PATH where "${CORE_DIR}" "${source}")
        string(APPEND back_edges "\n  core/${where} (${layer}) includes \"${header}\" (${target_layer}, a higher layer)")
      endif()
    endforeach()
  endforeach()
endforeach()

if(back_edges)
  message(FATAL_ERROR "core/ layering: dependencies must point to lower layers (cmake/layering.cmake):${back_edges}")
endif()
