"""Which checks judge each request parameter of the catalogue, or why none does yet.

Every top-level parameter of every covered endpoint (the document's, and those only a client declares)
is classified here: a tuple of the checks whose claims are about it, or a sentence saying why no check
judges it. ``tests/test_surface.py`` fails when the catalogue holds a parameter missing here, or when
this names a parameter or a check that does not exist, so a new parameter in the pinned document or
SDKs cannot pass unseen.

Fields of answers need no list: every field a run sees is judged by the checks that validate the
whole object (the dialect's JSON Schema and both SDKs' types) on that exchange.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Effect:
    """A parameter the sweep sends (is it accepted, are invalid values refused) whose effect these checks judge."""

    checks: tuple[str, ...]


Judged = tuple[str, ...] | str | Effect

# A parameter described by a sentence has no check of its own: on chat completions and /responses the parameter
# sweep (rows parameters and responses-parameters, ``SWEEP_ROWS``) sends it at valid and invalid values, unless
# the dialect leaves it to errors-400's unsupported parameters; the sentence says what else is to know. The sweep
# sends an ``Effect``'s parameter too, and its checks measure what it changes.
_NO_PROBE = "no check of its own; what it changes is not judged"
_AUDIO = "audio: no covered row serves audio (the sweep sends an invalid value only)"
_HOSTED = "OpenAI-hosted feature (prompt templates, caching, moderation, web search): no check of its own"
_ACCOUNT = "account and billing metadata that does not change the answer: no check of its own"
_CLIENT_ONLY = "declared by openai-python only, not by the pinned document: no type to send it with"
_NOT_SWEPT = "no probe sends it"
# legacy completions share chat's sampling parameters; their ranges and effects are judged on chat only
_LEGACY_SAMPLING = (
    "the completions row sends it at most at greedy or default values; its range and effect are judged on "
    "/chat/completions (rows sampling and parameters), not on /completions"
)

_ROLES = (
    "chat-completions.basic_request_succeeds",
    "chat-completions.accepts_system_role",
    "chat-completions.accepts_developer_role",
    "chat-completions.accepts_multi_turn_history",
    "chat-completions.accepts_text_content_parts",
    "chat-completions.accepts_message_names",
    "chat-completions.accepts_long_history",
    "errors-400.missing_messages_are_refused",
    "errors-400.empty_messages_are_refused",
    "errors-400.invalid_role_is_refused",
    "errors-400.messages_as_a_string_are_refused",
    "chat-completions.every_message_form_is_answered",
    "chat-completions.text_parts_reach_the_model",
    "errors-400.malformed_messages_are_refused",
    "errors-400.tool_turns_out_of_order_are_refused",
    "errors-400.malformed_messages_get_400",
)
_EFFORT = (
    "reasoning.effort_values_are_accepted_or_refused",
    "reasoning.invalid_effort_is_refused",
    "reasoning.lower_effort_thinks_less",
    "reasoning.effort_none_does_not_think",
)
_CHAT_TOOLS = (
    "tools.required_choice_gives_valid_calls",
    "tools.named_choice_calls_that_tool",
    "tools.none_choice_calls_no_tool",
    "tools.auto_choice_calls_are_valid",
    "tools.no_argument_tool_gets_an_empty_object",
    "tools.tool_results_round_trip",
)
_RESPONSES_TOOLS = (
    "responses-tools.required_choice_gives_valid_calls",
    "responses-tools.none_choice_gives_no_call",
    "responses-tools.named_choice_calls_that_tool",
    "responses-tools.auto_choice_calls_the_tool",
)

PARAMETERS: dict[str, dict[str, Judged]] = {
    "GET /models": {},
    "GET /models/{model}": {
        "model": ("models.retrieve_is_schema_valid", "models.retrieve_returns_the_requested_id"),
    },
    "POST /chat/completions": {
        "audio": _AUDIO,
        "frequency_penalty": Effect(("parameters.frequency_penalty_repeats_less",)),
        "function_call": Effect(("parameters.deprecated_functions_are_honoured",)),
        "functions": Effect(("parameters.deprecated_functions_are_honoured",)),
        "logit_bias": Effect(("parameters.logit_bias_selects_the_token",)),
        "logprobs": ("sampling.logprobs_are_returned_when_asked",),
        "max_completion_tokens": ("sampling.max_completion_tokens_is_honoured", "reasoning.the_cap_covers_thinking"),
        "max_tokens": (
            "sampling.max_tokens_is_honoured",
            "errors-400.negative_token_limit_is_refused",
            "reasoning.max_tokens_is_honoured_or_refused",
        ),
        "messages": _ROLES,
        "metadata": _ACCOUNT,
        "modalities": _AUDIO,
        "model": (
            "model-selection.every_listed_model_answers_as_itself",
            "model-selection.unknown_model_is_refused_with_404",
            "errors-400.missing_model_is_refused",
        ),
        "moderation": _HOSTED,
        "n": ("chat-completions.n_is_honoured",),
        "parallel_tool_calls": ("tools.parallel_request_gets_several_calls", "tools.parallel_calls_have_distinct_ids"),
        "prediction": "predicted outputs make an answer faster, not different, and the suite times no answer: "
        + _NO_PROBE,
        "presence_penalty": Effect(("parameters.presence_penalty_repeats_less",)),
        "prompt_cache_key": _HOSTED,
        "prompt_cache_options": _HOSTED,
        "prompt_cache_retention": _HOSTED,
        "reasoning_effort": _EFFORT,
        "response_format": (
            "structured-output.json_object_gives_json",
            "structured-output.strict_json_schema_is_followed",
            "structured-output.loose_json_schema_is_followed",
            "structured-output.invalid_schema_is_refused",
            "structured-output.generated_schemas_are_followed",
            "structured-output.every_response_format_form_is_answered",
            "structured-output.schema_definitions_are_followed",
        ),
        "safety_identifier": _ACCOUNT,
        "seed": ("sampling.seed_is_accepted", "sampling.seed_makes_sampling_repeatable"),
        "service_tier": _ACCOUNT,
        "stop": ("sampling.stop_is_honoured", "sampling.stop_keeps_the_text_before_it"),
        "store": "stored chat completions (GET /chat/completions/{id}) are not a covered endpoint; " + _NO_PROBE,
        "stream": (
            "streaming.request_succeeds",
            "streaming.stream_ends_with_done",
            "streaming.chunks_are_schema_valid",
        ),
        "stream_options": ("streaming.usage_chunk_when_asked", "errors-400.stream_options_without_stream_are_refused"),
        "temperature": (
            "sampling.temperature_is_accepted",
            "sampling.out_of_range_temperature_is_refused",
            "sampling.temperature_changes_the_answers",
            "errors-400.temperature_as_a_string_is_refused",
        ),
        "tool_choice": (*_CHAT_TOOLS[:4], "errors-400.tool_choice_naming_no_tool_is_refused"),
        "tools": _CHAT_TOOLS,
        "top_logprobs": ("sampling.logprobs_are_returned_when_asked",),
        "top_p": (
            "sampling.top_p_is_accepted",
            "sampling.out_of_range_top_p_is_refused",
            "sampling.top_p_narrows_the_answers",
        ),
        "user": _ACCOUNT,
        "verbosity": Effect(("parameters.verbosity_changes_the_length",)),
        "web_search_options": _HOSTED,
    },
    "POST /moderations": {
        "input": ("moderation.one_result_per_input", "moderation.harmful_text_is_flagged"),
        "model": ("moderation.response_is_schema_valid", "errors-not-found.unknown_model_moderation_is_404"),
    },
    "POST /embeddings": {
        "dimensions": ("embeddings.dimensions_are_honoured_or_refused",),
        "encoding_format": ("embeddings.base64_is_the_float_vector", "embeddings.unknown_encoding_is_refused"),
        "input": (
            "embeddings.strings_are_embedded_one_per_input",
            "embeddings.token_ids_are_embedded",
            "embeddings.empty_input_is_refused",
            "embeddings.too_many_inputs_are_refused",
            "embeddings.overlong_input_is_refused_not_truncated",
        ),
        "model": (
            "embeddings.response_is_schema_valid",
            "embeddings.chat_model_is_refused",
            "embeddings.missing_model_is_refused",
            "embeddings.unknown_model_is_refused",
        ),
        "user": _ACCOUNT,
    },
    "POST /completions": {
        "best_of": ("completions.best_of_returns_n_choices", "completions.best_of_conflicts_are_refused"),
        "echo": ("completions.echo_prepends_the_prompt", "completions.echoed_logprobs_cover_the_prompt"),
        "frequency_penalty": _LEGACY_SAMPLING,
        "logit_bias": _LEGACY_SAMPLING,
        "logprobs": (
            "completions.logprobs_describe_the_text",
            "completions.text_offsets_count_from_the_prompt",
            "completions.out_of_range_values_are_refused",
        ),
        "max_tokens": (
            "completions.max_tokens_caps_the_text",
            "completions.max_tokens_defaults_to_16",
            "completions.out_of_range_values_are_refused",
        ),
        "model": ("completions.response_is_schema_valid", "completions.unknown_model_is_refused"),
        "n": ("completions.every_prompt_gets_n_choices", "completions.out_of_range_values_are_refused"),
        "presence_penalty": _LEGACY_SAMPLING,
        "prompt": (
            "completions.every_prompt_gets_n_choices",
            "completions.token_ids_are_a_prompt",
            "completions.usage_counts_prompt_and_completion",
        ),
        "seed": ("completions.seed_repeats_the_text",),
        "stop": ("completions.stop_ends_the_text",),
        "stream": ("completions.streams_are_framed_and_valid", "completions.stream_is_one_completion"),
        "stream_options": ("completions.stream_usage_comes_last",),
        "suffix": ("completions.suffix_is_taken_or_refused",),
        "temperature": _LEGACY_SAMPLING,
        "top_p": _LEGACY_SAMPLING,
        "user": _ACCOUNT,
    },
    "POST /responses": {
        "access_programs": _CLIENT_ONLY,
        "background": "background responses (polled by GET): " + _NO_PROBE,
        "background_options": _CLIENT_ONLY,
        "context_management": _HOSTED,
        "conversation": "the Conversations API is not a covered endpoint; " + _NO_PROBE,
        "image": _CLIENT_ONLY,
        "include": (
            "responses-reasoning.encrypted_content_comes_when_included",
            "responses-parameters.logprobs_come_when_included",
        ),
        "input": (
            "responses.basic_request_is_answered",
            "responses.system_and_developer_items_are_answered",
            "responses-state.input_items_carry_the_history",
            "responses-errors.missing_input_is_refused_with_400",
            "responses-multimodal.data_url_image_is_answered",
        ),
        "instructions": ("responses.instructions_reach_the_model",),
        "max_output_tokens": ("responses.max_output_tokens_is_honoured", "responses.settings_are_echoed"),
        "max_tool_calls": "caps the calls to OpenAI's built-in tools (web and file search, MCP), which no covered row "
        "offers; function calls are not counted: no check of its own",
        "metadata": ("responses.settings_are_echoed",),
        "model": ("responses.basic_request_is_answered", "responses-errors.unknown_model_is_refused"),
        "moderation": _HOSTED,
        "parallel_tool_calls": ("responses-tools.parallel_calls_have_distinct_call_ids",),
        "previous_response_id": ("responses-state.previous_response_id_continues_the_conversation",),
        "prompt": _HOSTED,
        "prompt_cache_key": _HOSTED,
        "prompt_cache_options": _HOSTED,
        "prompt_cache_retention": _HOSTED,
        "reasoning": (
            "responses-reasoning.effort_values_are_accepted_or_refused",
            "responses-reasoning.invalid_effort_is_refused",
            "responses-reasoning.lower_effort_thinks_less",
            "responses-reasoning.summary_comes_when_asked",
        ),
        "safety_identifier": _ACCOUNT,
        "service_tier": _ACCOUNT,
        "store": ("responses-state.unstored_response_is_not_kept", "responses-state.stored_response_is_retrievable"),
        "stream": ("responses-streaming.streamed_request_completes", "responses-streaming.events_are_typed_json"),
        "stream_options": "only include_obfuscation, padding of stream events against side channels that no client "
        "reads (a valid value needs a stream: the sweep sends the invalid one); " + _NO_PROBE,
        "temperature": (
            "responses.temperature_and_top_p_are_accepted",
            "responses.settings_are_echoed",
            "responses-errors.out_of_range_value_is_refused_with_400",
        ),
        "text": (
            "responses-structured-output.json_schema_text_matches_the_schema",
            "responses-structured-output.json_object_text_is_an_object",
        ),
        "tool_choice": _RESPONSES_TOOLS,
        "tools": (*_RESPONSES_TOOLS, "responses-tools.call_output_round_trip_is_answered"),
        "top_logprobs": Effect(("responses-parameters.logprobs_come_when_included",)),
        "top_p": ("responses.temperature_and_top_p_are_accepted", "responses.settings_are_echoed"),
        "truncation": "deprecated; " + _NO_PROBE,
        "user": _ACCOUNT,
    },
    "GET /responses/{response_id}": {
        "response_id": (
            "responses-state.stored_response_is_retrievable",
            "responses-state.unstored_response_is_not_kept",
        ),
        "include": "on retrieval it adds what the response was made with; the suite asks for logprobs and encrypted "
        "reasoning on POST /responses, where they are judged: " + _NOT_SWEPT,
        "include_obfuscation": "padding of a resumed background stream: " + _NOT_SWEPT,
        "starting_after": "resuming a background response's stream: " + _NOT_SWEPT,
        "stream": "resuming a background response's stream: " + _NOT_SWEPT,
    },
}

# checks whose claim is about every top-level parameter their requests carry: a parameter such a check
# sent and judged is judged, whatever the list above says of it
PER_PARAMETER: frozenset[str] = frozenset(
    {
        "errors-400.unsupported_parameters_are_ignored_or_refused",
        "parameters.documented_parameters_never_break_the_server",
        "parameters.valid_values_are_accepted",
        "parameters.invalid_values_are_refused_with_400",
        "parameters.refusals_name_the_parameter",
        "responses-parameters.documented_parameters_never_break_the_server",
        "responses-parameters.valid_values_are_accepted",
        "responses-parameters.settings_are_echoed_as_sent",
        "responses-parameters.invalid_values_are_refused_with_400",
        "responses-parameters.refusals_name_the_parameter",
    }
)


# the rows of the parameter sweep, by endpoint
SWEEP_ROWS: dict[str, str] = {"POST /chat/completions": "parameters", "POST /responses": "responses-parameters"}


def checks_of(endpoint: str, parameter: str) -> tuple[str, ...]:
    judged = PARAMETERS.get(endpoint, {}).get(parameter, ())
    if isinstance(judged, Effect):
        return judged.checks
    return judged if isinstance(judged, tuple) else ()


def swept(endpoint: str) -> tuple[str, ...]:
    """The parameters the sweep sends on ``endpoint``: those no check of its own judges, and those whose effect
    alone is judged by one."""
    return tuple(name for name, why in PARAMETERS[endpoint].items() if isinstance(why, str | Effect))


def why_unjudged(endpoint: str, parameter: str) -> str | None:
    judged = PARAMETERS.get(endpoint, {}).get(parameter)
    return judged if isinstance(judged, str) else None
