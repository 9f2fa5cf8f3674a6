ƒ
"serve*2.15.02unknown*æ
serving_defaultÒ
A
string_input1
serving_default_string_input:0ÿÿÿÿÿÿÿÿÿ:

confidence,
StatefulPartitionedCall:0ÿÿÿÿÿÿÿÿÿ5
label,
StatefulPartitionedCall:1ÿÿÿÿÿÿÿÿÿtensorflow/serving/predict