#!/usr/bin/env python3
"""Writes chat_template_fixtures.inc: real chat templates of several model
families with the output Python's Jinja2 gives for them, rendered exactly as
Hugging Face transformers renders chat templates (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loop controls, raise_exception, its tojson).

Our interpreter must produce the same bytes (chat_template_test.cpp).
Run: python3 tests/core/tokenizer/chat_template_golden.py   (needs jinja2)
"""
import json
import os

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

SYSTEM_CONVERSATION = [
    {"role": "system", "content": "You are a helpful assistant"},
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there"},
    {"role": "user", "content": "Who are you"},
    {"role": "assistant", "content": "   I am an assistant   "},
    {"role": "user", "content": "Another question"},
]
PLAIN_CONVERSATION = SYSTEM_CONVERSATION[1:]

QWEN3 = r'''{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set content = message.content %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is defined and message.reasoning_content is not none %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in message.content %}
                {%- set content = message.content.split('</think>')[-1].lstrip('\n') %}
                {%- set reasoning_content = message.content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %}'''

GEMMA3 = r'''{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
'''

# (name, where the format is documented, template, bos, eos, conversation, add_generation_prompt)
FIXTURES = [
    ("llama2",
     "Llama 2 chat: [INST] ... [/INST] with <<SYS>> inside the first turn. Template from "
     "meta-llama/Llama-2-7b-chat-hf tokenizer_config.json; format: "
     "https://llama.meta.com/docs/model-cards-and-prompt-formats/meta-llama-2/",
     "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
     "<s>", "</s>", SYSTEM_CONVERSATION, True),
    ("llama3",
     "Llama 3 instruct: <|start_header_id|>role<|end_header_id|>\\n\\n...<|eot_id|>. Template from "
     "meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json; format: "
     "https://llama.meta.com/docs/model-cards-and-prompt-formats/meta-llama-3/",
     "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
     "<|begin_of_text|>", "<|eot_id|>", SYSTEM_CONVERSATION, True),
    ("chatml",
     "ChatML (<|im_start|>role\\n...<|im_end|>), as in teknium/OpenHermes-2.5-Mistral-7B "
     "tokenizer_config.json; format: https://github.com/openai/openai-python/blob/release-v0.28.0/chatml.md",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
     "<s>", "<|im_end|>", SYSTEM_CONVERSATION, True),
    ("qwen2",
     "Qwen2 instruct: ChatML with a default system message. Template from Qwen/Qwen2-7B-Instruct "
     "tokenizer_config.json; format: https://qwen.readthedocs.io/en/latest/getting_started/concepts.html",
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
     "", "<|im_end|>", PLAIN_CONVERSATION, True),
    ("mistral_v02",
     "Mistral/Mixtral instruct v0.1/v0.2: [INST] ... [/INST], no system role. Template from "
     "mistralai/Mistral-7B-Instruct-v0.2 and mistralai/Mixtral-8x7B-Instruct-v0.1 tokenizer_config.json; "
     "format: https://docs.mistral.ai/guides/tokenization/",
     "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
     "<s>", "</s>", PLAIN_CONVERSATION, True),
    ("mistral_v1_system",
     "Mistral 'v1' template with an optional system prompt (whitespace-controlled, multi-line), as in "
     "later mistralai/Mistral-7B-Instruct-v0.2 revisions; format: https://docs.mistral.ai/guides/tokenization/",
     "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == 'user' %}\n        {%- if loop.first and system_message is defined %}\n            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n",
     "<s>", "</s>", SYSTEM_CONVERSATION, True),
    ("mistral_v3_tools",
     "Mistral 'v3' template (tools, namespace(), selectattr, tojson), from "
     "mistralai/Mistral-Large-Instruct-2407 tokenizer_config.json; format: https://docs.mistral.ai/guides/tokenization/",
     "{%- if messages[0][\"role\"] == \"system\" %}\n    {%- set system_message = messages[0][\"content\"] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n{%- set user_messages = loop_messages | selectattr(\"role\", \"equalto\", \"user\") | list %}\n\n{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}\n{%- set ns = namespace() %}\n{%- set ns.index = 0 %}\n{%- for message in loop_messages %}\n    {%- if not (message.role == \"tool\" or message.role == \"tool_results\" or (message.tool_calls is defined and message.tool_calls is not none)) %}\n        {%- if (message[\"role\"] == \"user\") != (ns.index % 2 == 0) %}\n            {{- raise_exception(\"After the optional system message, conversation roles must alternate user/assistant/user/assistant/...\") }}\n        {%- endif %}\n        {%- set ns.index = ns.index + 1 %}\n    {%- endif %}\n{%- endfor %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if message[\"role\"] == \"user\" %}\n        {%- if tools is not none and (message == user_messages[-1]) %}\n            {{- \"[AVAILABLE_TOOLS] [\" }}\n            {%- for tool in tools %}\n                {%- set tool = tool.function %}\n                {{- '{\"type\": \"function\", \"function\": {' }}\n                {%- for key, val in tool.items() if key != \"return\" %}\n                    {%- if val is string %}\n                        {{- '\"' + key + '\": \"' + val + '\"' }}\n                    {%- else %}\n                        {{- '\"' + key + '\": ' + val|tojson }}\n                    {%- endif %}\n                    {%- if not loop.last %}\n                        {{- \", \" }}\n                    {%- endif %}\n                {%- endfor %}\n                {{- \"}}\" }}\n                {%- if not loop.last %}\n                    {{- \", \" }}\n                {%- else %}\n                    {{- \"]\" }}\n                {%- endif %}\n            {%- endfor %}\n            {{- \"[/AVAILABLE_TOOLS]\" }}\n            {%- endif %}\n        {%- if loop.last and system_message is defined %}\n            {{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n        {%- else %}\n            {{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}\n        {%- endif %}\n    {%- elif message.tool_calls is defined and message.tool_calls is not none %}\n        {{- \"[TOOL_CALLS] [\" }}\n        {%- for tool_call in message.tool_calls %}\n            {%- set out = tool_call.function|tojson %}\n            {{- out[:-1] }}\n            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}\n                {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n            {%- endif %}\n            {{- ', \"id\": \"' + tool_call.id + '\"}' }}\n            {%- if not loop.last %}\n                {{- \", \" }}\n            {%- else %}\n                {{- \"]\" + eos_token }}\n            {%- endif %}\n        {%- endfor %}\n    {%- elif message[\"role\"] == \"assistant\" %}\n        {{- \" \" + message[\"content\"]|trim + eos_token}}\n    {%- elif message[\"role\"] == \"tool_results\" or message[\"role\"] == \"tool\" %}\n        {%- if message.content is defined and message.content.content is defined %}\n            {%- set content = message.content.content %}\n        {%- else %}\n            {%- set content = message.content %}\n        {%- endif %}\n        {{- '[TOOL_RESULTS] {\"content\": ' + content|string + \", \" }}\n        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}\n            {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n        {%- endif %}\n        {{- '\"call_id\": \"' + message.tool_call_id + '\"}[/TOOL_RESULTS]' }}\n    {%- else %}\n        {{- raise_exception(\"Only user and assistant roles are supported, with the exception of an initial optional system message!\") }}\n    {%- endif %}\n{%- endfor %}\n",
     "<s>", "</s>", SYSTEM_CONVERSATION, True),
    ("mistral_v7",
     "Mistral 'v7' template with [SYSTEM_PROMPT], from mistralai/Mistral-Large-Instruct-2411 "
     "tokenizer_config.json; format: https://docs.mistral.ai/guides/tokenization/",
     "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% else %}{{ raise_exception('Only user, system and assistant roles are supported!') }}{% endif %}{% endfor %}",
     "<s>", "</s>", SYSTEM_CONVERSATION, True),
    ("gemma",
     "Gemma instruct: <start_of_turn>user|model ... <end_of_turn>, no system role. Template from "
     "google/gemma-7b-it tokenizer_config.json; format: https://ai.google.dev/gemma/docs/formatting",
     "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
     "<bos>", "<eos>", PLAIN_CONVERSATION, True),
    ("phi3",
     "Phi-3 mini instruct: <|user|>\\n...<|end|>\\n<|assistant|>\\n. Template from "
     "microsoft/Phi-3-mini-4k-instruct tokenizer_config.json; format: "
     "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct#chat-format",
     "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}",
     "<s>", "<|endoftext|>", SYSTEM_CONVERSATION, True),
    ("phi3_small",
     "Phi-3 small instruct: every role as <|role|>, from microsoft/Phi-3-small-8k-instruct "
     "tokenizer_config.json; format: https://huggingface.co/microsoft/Phi-3-small-8k-instruct#chat-format",
     "{{ bos_token }}{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + '<|end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}",
     "<|endoftext|>", "<|endoftext|>", SYSTEM_CONVERSATION, False),
    ("zephyr",
     "Zephyr: <|user|>\\n...</s> on its own lines, written with one tag per line (trim_blocks and "
     "lstrip_blocks matter). Template from HuggingFaceH4/zephyr-7b-beta tokenizer_config.json; format: "
     "https://huggingface.co/HuggingFaceH4/zephyr-7b-beta#intended-uses--limitations",
     "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
     "<s>", "</s>", SYSTEM_CONVERSATION, True),
    ("deepseek_llm",
     "DeepSeek LLM / V2 chat: 'User: ...\\n\\nAssistant: ...<｜end▁of▁sentence｜>'. Template from "
     "deepseek-ai/DeepSeek-V2-Chat and deepseek-ai/deepseek-llm-7b-chat tokenizer_config.json; format: "
     "https://huggingface.co/deepseek-ai/deepseek-llm-7b-chat#chat-completion",
     "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ message['content'] + '\n\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}",
     "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", SYSTEM_CONVERSATION, True),
    ("deepseek_coder",
     "DeepSeek Coder instruct: '### Instruction:' / '### Response:' with a default system prompt "
     "(namespace(), '-' whitespace control). Template from deepseek-ai/deepseek-coder-33b-instruct "
     "tokenizer_config.json; format: https://huggingface.co/deepseek-ai/deepseek-coder-33b-instruct",
     "{% if not add_generation_prompt is defined %}\n{% set add_generation_prompt = false %}\n{% endif %}\n{%- set ns = namespace(found=false) -%}\n{%- for message in messages -%}\n    {%- if message['role'] == 'system' -%}\n        {%- set ns.found = true -%}\n    {%- endif -%}\n{%- endfor -%}\n{{bos_token}}{%- if not ns.found -%}\n{{'You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer\\n'}}\n{%- endif %}\n{%- for message in messages %}\n    {%- if message['role'] == 'system' %}\n{{ message['content'] }}\n    {%- else %}\n        {%- if message['role'] == 'user' %}\n{{'### Instruction:\\n' + message['content'] + '\\n'}}\n        {%- else %}\n{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{% if add_generation_prompt %}\n{{'### Response:'}}\n{% endif %}",
     "<｜begin▁of▁sentence｜>", "<|EOT|>", PLAIN_CONVERSATION, True),
    ("qwen3",
     "Qwen3: ChatML; earlier turns' <think> blocks are dropped and the last reply's kept, namespace(), "
     "reversed slices, str methods. Template from Qwen/Qwen3-8B tokenizer_config.json; format: "
     "https://qwen.readthedocs.io/en/latest/getting_started/concepts.html",
     QWEN3,
     "", "<|im_end|>", SYSTEM_CONVERSATION, True),
    ("gemma3",
     "Gemma 3 instruct: the system prompt joins the first user turn, string or typed-part content. "
     "Template from google/gemma-3-4b-it tokenizer_config.json; format: https://ai.google.dev/gemma/docs/core/prompt-structure",
     GEMMA3,
     "<bos>", "<eos>", SYSTEM_CONVERSATION, True),
    ("command_r",
     "Cohere Command R: turn tokens, .strip(), from CohereForAI/c4ai-command-r-plus tokenizer_config.json; "
     "format: https://docs.cohere.com/docs/prompting-command-r",
     "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% elif false == true %}{% set loop_messages = messages %}{% set system_message = 'You are Command-R, a brilliant, sophisticated, AI-assistant trained to assist human users by providing thorough responses. You are trained by Cohere.' %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% if system_message != false %}{{ '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + system_message + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% set content = message['content'] %}{% if message['role'] == 'user' %}{{ '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% elif message['role'] == 'assistant' %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'  + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}",
     "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>", SYSTEM_CONVERSATION, True),
]


# Small templates exercising one language feature each, rendered with
# SNIPPET_VARIABLES (their expected output also comes from Jinja2).
SNIPPET_VARIABLES = {
    "messages": SYSTEM_CONVERSATION,
    "add_generation_prompt": True,
    "bos_token": "<s>",
    "eos_token": "</s>",
}
SNIPPETS = [
    "{{ 'a' + 'b' | upper }}",
    "{{ 1 + 2 * 3 - 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7.5 // 2 }}",
    "{{ 1 ~ 2 ~ 'x' }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e-7 }} {{ 3.0 }} {{ 100000.0 }} {{ 1e16 }} {{ -0.5 }}",
    "{{ none }} {{ true }} {{ false }} {{ [1, 'a', none, true, 2.5] }} {{ {'k': 'v', 'n': [1]} }}",
    "{{ \"it's\" }} {{ ['it\\'s', 'a\"b', 'both\\'\"'] }}",
    "{{ messages | length }} {{ messages[0].role }} {{ messages[-1]['content'] }} {{ messages[1:3] | map(attribute='role') | join(',') }}",
    "{{ 'hello'[1:4] }} {{ 'hello'[::-1] }} {{ [1,2,3,4,5][::2] }} {{ [1,2,3][-2:] }} {{ 'héllo'[1] }} {{ 'héllo' | length }}",
    "{% for m in messages %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}",
    "{% for m in messages if m.role == 'user' %}{{ loop.index0 }}:{{ m.content }};{% endfor %}",
    "{% for m in messages %}{% if loop.first %}[{% endif %}{{ loop.revindex }}{% if loop.last %}]{% endif %}{% endfor %}",
    "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for i in [] %}x{% else %}empty{% endfor %}",
    "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }} {% endfor %}",
    "{% set x = 1 %}{% for i in range(3) %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}",
    "{% set ns = namespace(total=0) %}{% for i in range(4) %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c %}captured {{ a }}{% endset %}[{{ c }}]",
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C') }}",
    "{{ 'x' if true else 'y' }}{{ 'x' if false else 'y' }}{{ 'z' if false }}|",
    "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' in 'cat' }} {{ 'd' not in ['a'] }} {{ 'role' in messages[0] }} {{ not 1 == 2 }}",
    "{{ (1 == 1) != (2 == 3) }} {{ true == 1 }} {{ none is none }} {{ x is defined }} {{ messages is not string }} {{ 3 is odd }} {{ 10 is divisibleby 5 }}",
    "{{ undefined_thing | default('fallback') }} {{ '' | default('empty', true) }} {{ none | string }} {{ undefined_thing }}|",
    "{{ '  pad  ' | trim }}|{{ 'xxhixx'.strip('x') }}|{{ ' a '.lstrip() }}|{{ ' a '.rstrip() }}|{{ 'Hello World'.upper() }}{{ 'ABC'.lower() }}",
    "{{ 'hello world' | title }} {{ \"they're bill's\" | title }} {{ \"they're bill's\".title() }} {{ 'hELLO' | capitalize }}",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'banana'.replace('a', 'o') }} {{ 'banana' | replace('a', '', 2) }}",
    "{{ 'abc'.startswith('a') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'abc'.find('c') }} {{ 'a-b'.count('-') }} {{ '-'.join(['x', 'y']) }}",
    "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}",
    "{{ messages | rejectattr('role', 'equalto', 'user') | list | length }} {{ [1, 0, 2, none] | select | list }} {{ [1,2,3,4] | reject('odd') | list }}",
    "{{ {'b': 1, 'a': [1, 2.5, none, true, 'x\"y\\n']} | tojson }}",
    "{{ {'name': 'f', 'parameters': {'a': {'type': 'string'}}} | tojson(indent=2) }}",
    "{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ [1, 2, 2, 3, 1] | unique | list }} {{ [1,2,3] | sum }} {{ [4, 9] | max }} {{ [4, 9] | min }}",
    "{{ 'ab' * 3 }} {{ [0] * 3 }} {{ [1] + [2] }} {{ 'x' | first }}{{ [1,2] | last }} {{ 'abc' | reverse }} {{ [1,2] | reverse | list }}",
    "{{ '3' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ -3 | abs }} {{ 3.7 | int }}",
    "{{ 'line1\nline2\n\nline4' | indent(2) }}|{{ 'a\nb' | indent(4, true) }}",
    "{% for k, v in {'b': 2, 'a': 1} | dictsort %}{{ k }}{{ v }}{% endfor %} {{ {'x': 1}.get('x') }} {{ {'x': 1}.get('y', 'no') }} {{ {'x': 1}.keys() | list }} {{ {'x': 1}.values() | list }}",
    "{{ 'A & <b>' | escape }} {{ 'one two  three' | wordcount }} {{ '%s' }} {{ 'a\tb' }}",
    "  {% if true %}\n    indented\n  {% endif %}\nafter\n",
    "{% if true -%}\n   stripped   \n{%- endif %}|{{- '  x  ' -}}|   {#- comment -#}   |",
    "line\n    {%+ if true %}keep{% endif %}\n{% if true +%}\nnewline kept{% endif %}",
    "{# a comment #}\n{% raw %}{{ not evaluated }}{% endraw %}\n{{ '{{' }}",
    "{{ messages[0]['content'][:3] ~ '...' }} {{ (messages | last).content }} {{ messages | map(attribute='role') | unique | join('/') }}",
    "{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }} {{ loop }}|{{ 5 - -3 }} {{ -(2 + 1) }}",
    "{% set d = {'a': {'b': [10, 20]}} %}{{ d.a.b[1] }} {{ d['a']['b'][0] }} {{ d.missing is defined }} {{ d.a.b.1 }}",
]


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def cpp_raw(text):
    assert ")~~~\"" not in text
    return 'R"~~~(' + text + ')~~~"'


def main():
    env = environment()
    lines = [
        "// GENERATED by chat_template_golden.py with Python Jinja2 " + jinja2.__version__ + ",",
        "// rendered as Hugging Face transformers renders chat templates. Do not edit; run the script.",
        "",
    ]
    for name, doc, source, bos, eos, conversation, add_prompt in FIXTURES:
        output = env.from_string(source).render(messages=conversation, bos_token=bos, eos_token=eos,
                                                add_generation_prompt=add_prompt)
        lines.append("// " + doc)
        lines.append("{")
        lines.append(f'    "{name}",')
        lines.append("    " + cpp_raw(source) + ",")
        lines.append("    " + cpp_raw(bos) + ", " + cpp_raw(eos) + ",")
        lines.append(f"    /*with_system=*/{'true' if conversation is SYSTEM_CONVERSATION else 'false'},"
                     f" /*add_generation_prompt=*/{'true' if add_prompt else 'false'},")
        lines.append("    " + cpp_raw(output) + ",")
        lines.append("},")
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chat_template_fixtures.inc")
    snippet_lines = [
        "// GENERATED by chat_template_golden.py with Python Jinja2 " + jinja2.__version__ + ". Do not edit.",
        "// {template, expected output} rendered with messages = the system conversation,",
        "// bos_token '<s>', eos_token '</s>', add_generation_prompt true.",
    ]
    for source in SNIPPETS:
        output = env.from_string(source).render(**SNIPPET_VARIABLES)
        snippet_lines.append("{" + cpp_raw(source) + ", " + cpp_raw(output) + "},")
    snippet_path = os.path.join(os.path.dirname(out_path), "jinja_snippets.inc")
    with open(snippet_path, "w", encoding="utf-8") as f:
        f.write("\n".join(snippet_lines) + "\n")
    print("wrote", snippet_path)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", out_path)


if __name__ == "__main__":
    main()
