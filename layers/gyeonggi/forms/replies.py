"""What the assistant says, in Korean, easy Korean and English: one place for every sentence
the dialogue composes (questions themselves are the catalogue's)."""

from __future__ import annotations

from gyeonggi.forms.catalogue import Text

T = Text

WHICH_FORM = T(
    "어떤 서류가 필요하세요? 주민등록 등본·초본, 전입신고, 가족관계증명서, 건축물대장, "
    "기초연금 신청, 장애인 등록, 인감증명서를 도와드릴 수 있어요.",
    "Which form do you need? I can help with a resident registration copy or abstract, a move-in "
    "report, a family relation certificate, a building register, the basic pension, disability "
    "registration and a seal certificate.",
    "어떤 서류가 필요해요? 등본, 초본, 전입신고, 가족관계증명서, 건축물대장, 기초연금, "
    "장애인 등록, 인감증명서 중에서 말해 주세요.",
)
START = T(
    "{title}{eul} 도와드릴게요.", "Let's fill in the {title} form.", "{title}{eul} 같이 해요."
)
NOTED = T("적었어요: {items}.", "Noted: {items}.", "적었어요: {items}.")
NOT_UNDERSTOOD = T(
    "죄송해요, 잘 알아듣지 못했어요.", "Sorry, I did not catch that.", "잘 못 알아들었어요."
)
WRONG = T("{label}: {reason}", "{label}: {reason}", "{label}: {reason}")
REQUIRED = T(
    "{label}{eun} 꼭 필요한 항목이라 건너뛸 수 없어요.",
    "{label} is required, so it cannot be skipped.",
    "{label}{eun} 꼭 있어야 해요.",
)
SKIPPED = T("{label}{eun} 비워 둘게요.", "I'll leave {label} empty.", "{label}{eun} 비워 둘게요.")
OPTIONAL_HINT = T(
    "(없으면 '없음'이라고 해 주세요.)", "(Say 'none' to skip.)", "(없으면 '없어요'라고 해요.)"
)
SUMMARY = T(
    "입력하신 내용을 확인해 주세요. {items}. 맞으면 '네', 고칠 곳이 있으면 말씀해 주세요.",
    "Please check: {items}. Say 'yes' if it is right, or tell me what to change.",
    "맞는지 봐 주세요. {items}. 맞으면 '네'라고 해요. 틀리면 고칠 것을 말해 주세요.",
)
WHAT_TO_CHANGE = T(
    "어느 항목을 고칠까요? 바꿀 내용을 그대로 말씀해 주세요 (예: 주소는 ...).",
    "What should I change? Just say the new value (e.g. 'the address is ...').",
    "무엇을 고칠까요? 새 내용을 말해 주세요.",
)
CONFIRMED = T(
    "신청서를 확정했어요. 수수료: {fee}. {steps}다음 단계에서 본인 확인을 해요.",
    "Your form is confirmed. Fee: {fee}. {steps}Next comes the identity check.",
    "신청서가 다 됐어요. 돈: {fee}. {steps}이제 본인 확인을 해요.",
)
ALREADY_CONFIRMED = T(
    "이 신청서는 이미 확정됐어요. 고치려면 새로 시작해 주세요.",
    "This form is already confirmed; start a new one to change it.",
    "이 신청서는 이미 끝났어요.",
)
CANCELLED = T(
    "신청을 취소했어요. 말씀하신 내용은 지웠어요.",
    "The application is cancelled and what you told me is erased.",
    "신청을 취소했어요.",
)
ALREADY_CANCELLED = T(
    "취소된 신청이에요. 새로 시작해 주세요.",
    "This application was cancelled; please start a new one.",
    "취소된 신청이에요. 처음부터 다시 해 주세요.",
)
HINT_ADDRESS = T(
    "{field}는 {city}로 알아 둘게요.",
    "I'll take the {field} to be in {city}.",
    "{field}는 {city}예요.",
)
ASK_ADDRESS_IN = T(
    "{city}의 도로명과 건물 번호를 알려 주세요.",
    "What is the road and building number in {city}?",
    "{city}의 길 이름과 건물 번호를 말해 주세요.",
)
ASK_DAY_IN_WEEK = T(
    "지난주 무슨 요일(며칠)이었어요?", "Which day last week was it?", "지난주 무슨 요일이었어요?"
)
NEXT_STEPS = T("준비물: {items}. ", "Bring: {items}. ", "가져올 것: {items}. ")
